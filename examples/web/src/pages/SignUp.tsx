import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { graphql } from "../gql";
import { PasswordField } from "../parts/PasswordField";
import { ProblemNote } from "../parts/Problem";
import { navigate } from "../route";
import { signIn } from "../session";

const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken
      refreshToken
      expiresAt
      verificationRequired
      user { id username }
    }
  }
`);

export function SignUp() {
  const [register, { loading, error }] = useMutation(Register);
  const [email, setEmail] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  return (
    <form
      className="card narrow"
      onSubmit={async (e) => {
        e.preventDefault();
        const { data } = await register({ variables: { input: { email, username, password } } }).catch(() => ({ data: undefined }));
        const result = data?.register;
        if (!result) return;
        if (result.accessToken && result.refreshToken && result.expiresAt) {
          signIn({ accessToken: result.accessToken, refreshToken: result.refreshToken, expiresAt: result.expiresAt });
        }
        navigate(`/verify?email=${encodeURIComponent(email)}`);
      }}
    >
      <h1>Create your account</h1>
      <label>
        Email
        <input name="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Username
        <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <PasswordField label="Password" autoComplete="new-password" value={password} onChange={setPassword} hint="A few unusual words make a strong password." />
      <ProblemNote error={error} />
      <button type="submit" disabled={loading}>
        {loading ? "Creating…" : "Create account"}
      </button>
    </form>
  );
}
