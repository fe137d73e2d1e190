// Public API of @sotto/attacks (STYLE.md §7): an explicit export list, nothing else.
export { AttacksError, type AttacksErrorCode } from './errors.ts';
export { ATTACKS, SYSTEMS, worstOutcome, type AttackId, type SystemId, type Outcome, type AttackResult, type Scenario } from './scenario.ts';
export { SCENARIOS, runScorecard, renderMarkdown, renderSummaryTable, renderJson, replaceDocTable, DOC_BEGIN, DOC_END, type ScorecardRow, type RunScorecardOptions } from './scorecard.ts';
export { RecordingProxy, type Recorded, type RecordedHttp, type RecordedFrame, type ProxyHooks, type ProxyRequest, type ProxyResponse } from './mallory/proxy.ts';
export { CallRelay, type RelayedDatagram, type MediaTamper } from './mallory/call-relay.ts';
export { MikeyNetwork, type CapturedDatagram } from './mallory/mikey-network.ts';
