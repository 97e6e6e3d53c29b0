import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { problem } from "../errors";
import { graphql } from "../gql";
import type { Theme } from "../gql/graphql";
import { ProblemNote } from "../parts/Problem";

const Me = graphql(`
  query Me {
    me {
      id
      username
      email
      emailVerified
      profile { displayName bio timezone version }
      preferences {
        version
        theme
        language
        orderUpdates { email inApp sms }
        marketing { email inApp sms }
      }
    }
  }
`);

const UpdateProfile = graphql(`
  mutation UpdateProfile($input: UpdateProfileInput!) {
    updateProfile(input: $input) { user { id profile { displayName bio timezone version } } }
  }
`);

const UpdatePreferences = graphql(`
  mutation UpdatePreferences($input: UpdatePreferencesInput!) {
    updatePreferences(input: $input) {
      preferences { version theme language orderUpdates { email inApp sms } marketing { email inApp sms } }
    }
  }
`);

export function Account() {
  const { data, error, refetch } = useQuery(Me);
  const me = data?.me;
  if (!me) return <ProblemNote error={error} />;
  return (
    <section className="columns">
      <div className="card">
        <h1>{me.username}</h1>
        <p className="muted">
          {me.email} {me.emailVerified ? "· verified" : "· not verified yet"}
        </p>
        {me.profile && <ProfileForm profile={me.profile} reload={() => void refetch()} />}
      </div>
      {me.preferences && <PreferencesForm preferences={me.preferences} />}
    </section>
  );
}

type Profile = { displayName: string | null; bio: string | null; timezone: string | null; version: number };

function ProfileForm({ profile, reload }: { profile: Profile; reload: () => void }) {
  const [displayName, setDisplayName] = useState(profile.displayName ?? "");
  const [bio, setBio] = useState(profile.bio ?? "");
  const [timezone, setTimezone] = useState(profile.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [save, { loading, error, data }] = useMutation(UpdateProfile);
  // A newer version loaded (after a conflict): show what is stored now.
  useEffect(() => {
    setDisplayName(profile.displayName ?? "");
    setBio(profile.bio ?? "");
    if (profile.timezone) setTimezone(profile.timezone);
  }, [profile.version, profile.displayName, profile.bio, profile.timezone]);

  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        await save({ variables: { input: { expectedVersion: profile.version, displayName, bio, timezone } } }).catch((err: unknown) => {
          // Someone (another tab, an admin) saved first: load theirs; the person decides again.
          if (problem(err)?.code === "VERSION_CONFLICT") reload();
        });
      }}
    >
      <h2>Profile</h2>
      <label>
        Display name
        <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
      </label>
      <label>
        About you
        <textarea name="bio" value={bio} onChange={(e) => setBio(e.target.value)} />
      </label>
      <label>
        Time zone
        <input name="timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      </label>
      <ProblemNote error={error} />
      {data && !error && <p className="ok">Saved.</p>}
      <button type="submit" disabled={loading}>
        Save profile
      </button>
    </form>
  );
}

type Channels = { email: boolean; inApp: boolean; sms: boolean };
const GROUPS = [
  ["orderUpdates", "Order updates"],
  ["marketing", "News and offers"],
] as const;
const CHANNELS = [
  ["email", "Email"],
  ["inApp", "In the shop"],
  ["sms", "SMS"],
] as const;
type Preferences = { theme: Theme; language: string | null; orderUpdates: Channels; marketing: Channels };

function PreferencesForm({ preferences }: { preferences: Preferences }) {
  // Preferences carry no id of their own: the stored user is read again after each change.
  const [save, { loading, error, data }] = useMutation(UpdatePreferences, { refetchQueries: ["Me"], awaitRefetchQueries: true });
  const toggle = (group: "orderUpdates" | "marketing", channel: keyof Channels, value: boolean) =>
    save({ variables: { input: { [group]: { [channel]: value } } } }).catch(() => {});

  return (
    <div className="card">
      <h2>Preferences</h2>
      {GROUPS.map(([group, legend]) => (
        <fieldset key={group}>
          <legend>{legend}</legend>
          {CHANNELS.map(([c, label]) => (
            <label key={c} className="inline">
              <input type="checkbox" checked={preferences[group][c]} onChange={(e) => toggle(group, c, e.target.checked)} /> {label}
            </label>
          ))}
        </fieldset>
      ))}
      <label>
        Theme
        <select
          value={preferences.theme}
          onChange={(e) => save({ variables: { input: { theme: e.target.value as Theme } } }).catch(() => {})}
        >
          <option value="SYSTEM">System</option>
          <option value="LIGHT">Light</option>
          <option value="DARK">Dark</option>
        </select>
      </label>
      <ProblemNote error={error} />
      {data && !error && !loading && <p className="ok">Saved.</p>}
    </div>
  );
}
