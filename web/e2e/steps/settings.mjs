// Steps of the browser journey for this screen (see e2e/run.mjs for `ctx`).
export const steps = [];
