import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { graphql } from "../gql";
import { PasswordField } from "../parts/PasswordField";
import { ProblemNote } from "../parts/Problem";
import { Link, navigate } from "../route";
import { deviceToken, rememberDevice, signIn } from "../session";

const Login = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      accessToken
      refreshToken
      expiresAt
      deviceToken
      mfaRequired
      mfaChallenge
    }
  }
`);

const VerifyMfa = graphql(`
  mutation VerifyMfa($input: VerifyMfaInput!) {
    verifyMfa(input: $input) { accessToken refreshToken expiresAt deviceToken }
  }
`);

type Tokenish = { accessToken: string | null; refreshToken: string | null; expiresAt: string | null; deviceToken: string | null };

function finish(t: Tokenish | undefined) {
  if (!t?.accessToken || !t.refreshToken || !t.expiresAt) return false;
  rememberDevice(t.deviceToken);
  signIn({ accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt });
  navigate("/");
  return true;
}

export function SignIn() {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [challenge, setChallenge] = useState<string | null>(null);
  const [login, attempt] = useMutation(Login);
  const [verifyMfa, second] = useMutation(VerifyMfa);

  if (challenge) {
    return (
      <form
        className="card narrow"
        onSubmit={async (e) => {
          e.preventDefault();
          const { data } = await verifyMfa({ variables: { input: { challenge, code: code.trim() } } }).catch(() => ({ data: undefined }));
          finish(data?.verifyMfa);
        }}
      >
        <h1>Two-step verification</h1>
        <label>
          Code from your authenticator app (or a recovery code)
          <input name="code" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
        </label>
        <ProblemNote error={second.error} />
        <button type="submit" disabled={second.loading}>
          Continue
        </button>
      </form>
    );
  }

  return (
    <form
      className="card narrow"
      onSubmit={async (e) => {
        e.preventDefault();
        const { data } = await login({ variables: { input: { identifier, password, deviceToken: deviceToken() } } }).catch(() => ({
          data: undefined,
        }));
        const result = data?.login;
        if (!result) return;
        rememberDevice(result.deviceToken);
        if (result.mfaRequired && result.mfaChallenge) setChallenge(result.mfaChallenge);
        else finish(result);
      }}
    >
      <h1>Sign in</h1>
      <label>
        Email or username
        <input name="identifier" autoComplete="username" required value={identifier} onChange={(e) => setIdentifier(e.target.value)} />
      </label>
      <PasswordField label="Password" autoComplete="current-password" value={password} onChange={setPassword} />
      <ProblemNote error={attempt.error} />
      <button type="submit" disabled={attempt.loading}>
        {attempt.loading ? "Signing in…" : "Sign in"}
      </button>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </form>
  );
}
