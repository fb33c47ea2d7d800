// Starts the reports page (its own wasm module: the TV's bundle never loads it). A file of its
// own, as the wallboard's boot.js, for the Content-Security-Policy (`script-src 'self'`).
import init from "/reports/floorwatch_reports.js";
init();
