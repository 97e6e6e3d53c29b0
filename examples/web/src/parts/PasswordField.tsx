/** A password input with its label; `autoComplete` tells password managers which one it is. */
export function PasswordField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  autoComplete: "new-password" | "current-password";
  hint?: string;
}) {
  return (
    <label>
      {props.label}
      <input
        name="password"
        type="password"
        autoComplete={props.autoComplete}
        required
        minLength={props.autoComplete === "new-password" ? 8 : undefined}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.hint && <small>{props.hint}</small>}
    </label>
  );
}
