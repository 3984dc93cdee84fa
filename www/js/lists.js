// Reading what a view shows: a GET whose failure is said in the view's message box.

import { api } from "./api.js";
import { explain } from "./errors.js";
import { showMessage } from "./dom.js";

/**
 * GET `path` (a JSON dialect): the body (an earlier failure said in `box` is cleared; other
 * messages stay); null, with the failure in words in `box`.
 */
export async function getOrSay(path, box) {
  try {
    const body = await api("GET", path);
    if (box.classList.contains("message-error")) showMessage(box, "");
    return body;
  } catch (error) {
    showMessage(box, explain(error), "error");
    return null;
  }
}
