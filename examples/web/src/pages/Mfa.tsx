import { useMutation } from "@apollo/client/react";
import QRCode from "qrcode";
import { useState } from "react";
import { problem } from "../errors";
import { graphql } from "../gql";
import { PasswordField } from "../parts/PasswordField";
import { ProblemNote } from "../parts/Problem";

const Enroll = graphql(`
  mutation EnrollTotp {
    enrollTotp { otpauthUri secret }
  }
`);

const Confirm = graphql(`
  mutation ConfirmTotp($input: ConfirmTotpInput!) {
    confirmTotp(input: $input) { recoveryCodes }
  }
`);

const Reauthenticate = graphql(`
  mutation Reauthenticate($input: ReauthenticateInput!) {
    reauthenticate(input: $input) { stepUpUntil }
  }
`);

/** Authenticator-app set-up: a QR code to scan, then a code from the app to turn MFA on.
 * Set-up needs a recent proof of the user (step-up); when it has gone stale we ask for the
 * password and try again, as the API asks. */
export function Mfa({ enabled, onChange }: { enabled: boolean; onChange: () => void }) {
  const [enroll, enrolling] = useMutation(Enroll);
  const [confirm, confirming] = useMutation(Confirm);
  const [reauthenticate, proving] = useMutation(Reauthenticate);
  const [qr, setQr] = useState<{ image: string; secret: string } | null>(null);
  const [needsPassword, setNeedsPassword] = useState(false);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [recovery, setRecovery] = useState<string[] | null>(null);

  const start = async () => {
    const result = await enroll().catch((e: unknown) => {
      if (problem(e)?.code === "STEP_UP_REQUIRED") setNeedsPassword(true);
      return null;
    });
    const t = result?.data?.enrollTotp;
    if (t) setQr({ image: await QRCode.toDataURL(t.otpauthUri, { margin: 1, width: 220 }), secret: t.secret });
  };

  if (recovery) {
    return (
      <div className="card">
        <h2>Two-step verification is on</h2>
        <p>Keep these recovery codes somewhere safe. Each works once, if you lose your phone.</p>
        <ul className="codes" data-testid="recovery-codes">
          {recovery.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
      </div>
    );
  }
  if (enabled) {
    return (
      <div className="card">
        <h2>Two-step verification</h2>
        <p className="ok">On: signing in asks for a code from your authenticator app.</p>
      </div>
    );
  }
  return (
    <div className="card">
      <h2>Two-step verification</h2>
      {needsPassword && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const ok = await reauthenticate({ variables: { input: { password } } }).catch(() => null);
            if (ok?.data) {
              setNeedsPassword(false);
              setPassword("");
              await start();
            }
          }}
        >
          <PasswordField label="Confirm your password to continue" autoComplete="current-password" value={password} onChange={setPassword} />
          <ProblemNote error={proving.error} />
          <button type="submit" disabled={proving.loading}>
            Confirm
          </button>
        </form>
      )}
      {!qr && !needsPassword && (
        <>
          <p>Protect your account with a code from an authenticator app.</p>
          <ProblemNote error={problem(enrolling.error)?.code === "STEP_UP_REQUIRED" ? null : enrolling.error} />
          <button type="button" onClick={start} disabled={enrolling.loading}>
            Set up an authenticator app
          </button>
        </>
      )}
      {qr && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const done = await confirm({ variables: { input: { code: code.trim() } } }).catch(() => null);
            const codes = done?.data?.confirmTotp.recoveryCodes;
            if (codes) {
              setRecovery(codes);
              onChange();
            }
          }}
        >
          <p>Scan this with your authenticator app, or type the key.</p>
          <img src={qr.image} alt="QR code for your authenticator app" width={220} height={220} data-testid="totp-qr" />
          <p>
            <code data-testid="totp-secret">{qr.secret}</code>
          </p>
          <label>
            Code from the app
            <input name="totp" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          </label>
          <ProblemNote error={confirming.error} />
          <button type="submit" disabled={confirming.loading}>
            Turn on
          </button>
        </form>
      )}
    </div>
  );
}
