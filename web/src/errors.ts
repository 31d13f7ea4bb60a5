import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

import type { UserError } from "./operations";

const CODE_MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: "Your session has ended. Please sign in again.",
  FORBIDDEN: "You are not allowed to do that.",
  NOT_FOUND: "Not found, or you are not a member of this project.",
  RATE_LIMITED: "Too many requests; wait a moment and try again.",
  INTERNAL_SERVER_ERROR: "The server had a problem. Please try again.",
};

/** A sentence for a person, whatever went wrong: network, HTTP or GraphQL errors. */
export function describeError(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    const code = first?.extensions?.code as string | undefined;
    return (code && CODE_MESSAGES[code]) || first?.message || "The request failed.";
  }
  if (ServerError.is(error)) return `The server answered ${error.statusCode}. Please try again.`;
  if (error instanceof TypeError) return "Cannot reach the server. Check your connection.";
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function describeUserErrors(errors: UserError[]): string {
  return errors.map((error) => (error.field ? `${error.field}: ${error.message}` : error.message)).join(" ");
}
