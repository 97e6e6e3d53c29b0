// What a person reads when the graph says no. Every error carries a stable `extensions.code`;
// the shop words each one it expects, and says plainly when it meets one it does not.
import { CombinedGraphQLErrors } from "@apollo/client";
import type { GraphQLFormattedError } from "graphql";

export type Problem = { code: string; message: string; extensions: Record<string, unknown> };

/** The first GraphQL error of `error` (from Apollo), or a network problem. */
export function problem(error: unknown): Problem | null {
  if (!error) return null;
  if (CombinedGraphQLErrors.is(error)) {
    const first: GraphQLFormattedError | undefined = error.errors[0];
    const extensions = (first?.extensions ?? {}) as Record<string, unknown>;
    const code = typeof extensions.code === "string" ? extensions.code : "INTERNAL";
    return { code, message: wording(code, first?.message ?? "", extensions), extensions };
  }
  return {
    code: "NETWORK",
    message: "We could not reach the shop. Check your connection and try again.",
    extensions: {},
  };
}

function wording(code: string, message: string, ext: Record<string, unknown>): string {
  switch (code) {
    case "UNAUTHENTICATED":
      return "Your session has ended. Please sign in again.";
    case "RATE_LIMITED": {
      const wait = Number(ext.retryAfterSeconds ?? 0);
      if (wait <= 0) return "Too many attempts. Please wait a moment and try again.";
      const [n, unit] = wait > 90 ? [Math.ceil(wait / 60), "minute"] : [wait, "second"];
      return `Too many attempts. Please wait ${n} ${unit}${n === 1 ? "" : "s"} and try again.`;
    }
    case "VERSION_CONFLICT":
      return "This was changed somewhere else while you were editing. We loaded the latest version: check it and save again.";
    case "OUT_OF_STOCK":
      return "Some items sold out before your order went through. Your cart now shows what is left.";
    case "ACCOUNT_LOCKED":
      return "This account is locked for now after too many failed attempts. Try again later, or reset your password.";
    case "STEP_UP_REQUIRED":
      return "Please confirm it is you: enter your password to continue.";
    case "SERVICE_UNAVAILABLE":
      return "Part of the shop is unavailable right now. Please try again in a moment.";
    case "INTERNAL":
      return "Something went wrong on our side. Please try again.";
    default:
      // BAD_USER_INPUT, CONFLICT, NOT_FOUND, FORBIDDEN: the service's message is written for people.
      return message || code;
  }
}

/** `OUT_OF_STOCK`'s `extensions.items`: each short product and how many are left. */
export function shortages(p: Problem | null): Map<string, number> {
  const out = new Map<string, number>();
  const items = p?.code === "OUT_OF_STOCK" ? p.extensions.items : undefined;
  if (Array.isArray(items)) {
    for (const item of items as Array<{ productId?: string; available?: number }>) {
      if (item.productId) out.set(item.productId, Number(item.available ?? 0));
    }
  }
  return out;
}
