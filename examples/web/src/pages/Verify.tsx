import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { graphql } from "../gql";
import { ProblemNote } from "../parts/Problem";
import { navigate } from "../route";
import { accessToken, signIn } from "../session";

const VerifyEmail = graphql(`
  mutation VerifyEmail($input: VerifyEmailInput!) {
    verifyEmail(input: $input) {
      accessToken
      refreshToken
      expiresAt
      user { id }
    }
  }
`);

const Resend = graphql(`
  mutation ResendVerification($input: ResendVerificationInput) {
    resendVerification(input: $input) { sent }
  }
`);

/** The code from the verification email (in development: the newest file in data/mail). */
export function Verify() {
  const email = new URLSearchParams(location.search).get("email") ?? "";
  const [code, setCode] = useState("");
  const [verify, { loading, error }] = useMutation(VerifyEmail);
  const [resend, resent] = useMutation(Resend);

  return (
    <form
      className="card narrow"
      onSubmit={async (e) => {
        e.preventDefault();
        // Signed in already (sign-up answered with tokens): verify this session's account, and
        // keep the session. Otherwise the email names the account and a session starts.
        const input = accessToken() ? { code: code.trim() } : { email, code: code.trim() };
        const { data } = await verify({ variables: { input } }).catch(() => ({ data: undefined }));
        const v = data?.verifyEmail;
        if (!v) return;
        if (v.accessToken && v.refreshToken && v.expiresAt) {
          signIn({ accessToken: v.accessToken, refreshToken: v.refreshToken, expiresAt: v.expiresAt });
        }
        navigate("/");
      }}
    >
      <h1>Check your email</h1>
      <p>
        We sent a code to <strong>{email}</strong>. It expires in 10 minutes.
      </p>
      <label>
        Verification code
        <input name="code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
      </label>
      <ProblemNote error={error ?? resent.error} />
      <button type="submit" disabled={loading}>
        {loading ? "Checking…" : "Verify"}
      </button>
      <button type="button" className="link" disabled={resent.loading} onClick={() => resend({ variables: { input: accessToken() ? null : { email } } }).catch(() => {})}>
        {resent.data ? "Sent again" : "Send a new code"}
      </button>
    </form>
  );
}
