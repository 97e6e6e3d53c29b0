import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { graphql } from "../gql";
import { ProblemNote } from "../parts/Problem";
import { navigate } from "../route";
import { signOut } from "../session";
import { Mfa } from "./Mfa";

const Sessions = graphql(`
  query Sessions {
    mySessions { id device ip createdAt lastUsedAt current }
    me { id mfaEnabled }
  }
`);

const RevokeSession = graphql(`
  mutation RevokeSession($input: RevokeSessionInput!) {
    revokeSession(input: $input) { revoked }
  }
`);

const LogoutAll = graphql(`
  mutation LogoutAll {
    logoutAll { revoked }
  }
`);

export function Security() {
  const client = useApolloClient();
  const { data, error, refetch } = useQuery(Sessions, { fetchPolicy: "cache-and-network" });
  const [revoke, revoking] = useMutation(RevokeSession);
  const [logoutAll, everywhere] = useMutation(LogoutAll);
  const [confirming, setConfirming] = useState(false);

  return (
    <section className="columns">
      <div className="card">
        <h1>Where you are signed in</h1>
        <ProblemNote error={error ?? revoking.error ?? everywhere.error} />
        <ul className="rows" data-testid="sessions">
          {data?.mySessions.map((s) => (
            <li key={s.id}>
              <strong>{s.device ?? "Unknown device"}</strong> {s.current && <em>(this browser)</em>}{" "}
              <span className="muted">
                {s.ip} · last used {new Date(s.lastUsedAt).toLocaleString()}
              </span>{" "}
              {!s.current && (
                <button type="button" className="secondary" onClick={() => revoke({ variables: { input: { sessionId: s.id } } }).then(() => refetch(), () => {})}>
                  Sign out
                </button>
              )}
            </li>
          ))}
        </ul>
        {confirming ? (
          <p>
            Sign out on every device, this one included?{" "}
            <button
              type="button"
              disabled={everywhere.loading}
              onClick={async () => {
                const done = await logoutAll().catch(() => null);
                if (!done) return;
                signOut();
                await client.clearStore();
                navigate("/signin");
              }}
            >
              Yes, sign out everywhere
            </button>{" "}
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              No
            </button>
          </p>
        ) : (
          <button type="button" onClick={() => setConfirming(true)}>
            Sign out everywhere
          </button>
        )}
      </div>
      {data && <Mfa enabled={data.me.mfaEnabled ?? false} onChange={() => void refetch()} />}
    </section>
  );
}
