// Starts the wallboard. A file of its own rather than an inline script, so the server's
// Content-Security-Policy can allow scripts from the server only (`script-src 'self'`).
import init from "./floorwatch_dashboard.js";
init();
