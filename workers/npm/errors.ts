// npm clients print the `error` field of a JSON body and honour Retry-After on a 429: the same
// envelope the admin API answers with, so npm's formatter is that one under npm's name.
export { jsonError as npmError } from "../errors";
