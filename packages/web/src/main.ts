// The browser entry (index.html loads it as the only script): starts the app in #app.
import { App } from './app.ts';

const root = document.getElementById('app');
if (root !== null) void new App(root).start();
