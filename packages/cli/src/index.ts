// Public API of @sotto/cli (STYLE.md §7): the command as a function, for embedding and tests.
// bin/sotto.mjs is the executable.
export { main, processIo, type MainIo } from './main.ts';
export { terminalOutput, type Output } from './output.ts';
export { CliError, isCliError, type CliErrorCode } from './errors.ts';
