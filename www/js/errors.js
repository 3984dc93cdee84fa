// Error codes of the dialects (README's tables) in words a person can act on.

const SENTENCES = {
  // Shared by the JSON dialects.
  unauthorized: "The token was not accepted. Sign in again.",
  forbidden: "This account may not do that.",
  not_found: "It no longer exists, or it belongs to another account.",
  bad_request: "The request was not understood. Check the fields and try again.",
  conflict: "That is not possible in its current state.",
  not_ready: "It is not finished yet, so there is nothing to download.",
  too_many_jobs: "Too many fetches are running for this account. Wait for some to finish.",
  invalid_option: "One of the options is not valid.",
  invalid_quality: "That quality is not one of the choices.",
  url_not_allowed: "That URL may not be fetched (not http or https, a private address, or an unknown host).",
  webhook_url_not_allowed: "That webhook URL may not be called (not http or https, or a private address).",
  payload_too_large: "The file is too large for this server.",
  busy: "The server is busy. Try again in a moment.",
  offline: "The server could not be reached. Check the connection.",
  // Files API imports and probes.
  invalid_url: "The URL is not a valid http or https URL.",
  blocked_address: "The URL leads to an address that may not be fetched.",
  host_not_found: "The URL's host name could not be resolved.",
  network: "The origin could not be reached.",
  timeout: "It did not finish within the time limit.",
  too_large: "The media is larger than this server accepts.",
  too_many_redirects: "The URL redirected too many times.",
  http_status: "The origin answered with an error.",
  empty_file: "The URL returned an empty file.",
  storage_failed: "The file could not be stored on this server.",
  processing_failed: "The file could not be processed.",
  not_media: "The file is not a recognised audio or video format.",
  probe_timeout: "Reading the media's details took too long.",
  probe_failed: "The media's details could not be read.",
  // Fetches and jobs.
  unsupported_url: "No extractor knows this page.",
  unavailable: "The media is unavailable (private, removed, blocked in this region, or no format fits the quality).",
  too_long: "The media is longer than this server accepts.",
  is_live: "Live streams cannot be fetched.",
  cancelled: "It was cancelled.",
  internal: "Something went wrong on the server (see fetchgate doctor).",
};

/** The sentence for a code, or null for a code this table does not know. */
export function describe(code) {
  return (code && SENTENCES[code]) || null;
}

/** A readable line for an ApiError or any other failure. */
export function explain(error) {
  if (!error) return "";
  if (error.status === 401) return SENTENCES.unauthorized;
  if (error.status === 413) return SENTENCES.payload_too_large;
  const words = describe(error.code);
  if (words && error.message && !words.startsWith(error.message)) return `${words} (${error.message})`;
  return words || error.message || String(error);
}
