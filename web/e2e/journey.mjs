// The journey's steps, in the order the issue lists them. Each step module exports an array of
// `{ name, run(ctx) }`; `ctx` is described in run.mjs (page, state, newPerson(), shot(), scratch).
import { steps as auth } from "./steps/auth.mjs";
import { steps as chat, citedSteps } from "./steps/chat.mjs";
import { steps as documents } from "./steps/documents.mjs";
import { steps as vault } from "./steps/vault.mjs";
import { steps as live } from "./steps/live.mjs";
import { steps as settings } from "./steps/settings.mjs";
import { offlineSteps, phoneSteps } from "./steps/shell.mjs";

export const JOURNEY = [
  ...auth,
  ...chat,
  ...documents,
  ...citedSteps,
  ...vault,
  ...live,
  ...settings,
  ...phoneSteps,
  // Last: it stops the server.
  ...offlineSteps,
];
