import { problem } from "../errors";

/** An error as a person reads it, with its stable code for support. */
export function ProblemNote({ error }: { error: unknown }) {
  const p = problem(error);
  if (!p) return null;
  return (
    <p className="problem" role="alert" data-code={p.code}>
      {p.message}
    </p>
  );
}
