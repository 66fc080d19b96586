// An organisation's members and roles, for its admins and owners: add a person by email
// with a role, change a role, remove someone. The server decides (only owners make
// owners, the last owner stays) and its refusal is shown as it says it.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import type { Role } from "../../gql/graphql";
import { ConfirmDialog } from "./ConfirmDialog";
import { formatWhen } from "./dates";
import { errorText } from "./snippets";

const SetMemberRole = graphql(`
  mutation SetMemberRole($organizationId: ID!, $email: String!, $role: Role!) {
    setMemberRole(organizationId: $organizationId, email: $email, role: $role) {
      userId
      email
      role
    }
  }
`);

const RemoveMember = graphql(`
  mutation RemoveMember($organizationId: ID!, $userId: ID!) {
    removeMember(organizationId: $organizationId, userId: $userId)
  }
`);

export const ROLES: { value: Role; label: string; hint: string }[] = [
  { value: "VIEWER", label: "Viewer", hint: "reads traces" },
  { value: "MEMBER", label: "Member", hint: "also annotates and tags" },
  { value: "ADMIN", label: "Admin", hint: "also manages keys and people" },
  { value: "OWNER", label: "Owner", hint: "also deletes and makes owners" },
];

export interface MemberRow {
  userId: string;
  email: string;
  role: Role;
  since: string;
}

interface Props {
  organizationId: string;
  organizationName: string;
  members: readonly MemberRow[] | undefined;
  /** Why the list is missing, when it is. */
  unavailable?: string;
  /** The caller's own user id, to mark "you". */
  me: string | null;
  /** After a change: the Member answered by setMemberRole refreshes the list by itself
   * (urql's document cache), a removal does not; either may change the caller's own
   * permissions. */
  onChanged(change: { userId: string; removed: boolean }): void;
}

export function Members({ organizationId, organizationName, members, unavailable, me, onChanged }: Props) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("MEMBER");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<MemberRow | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const [setting, setMemberRole] = useMutation(SetMemberRole);
  const [removed, removeMember] = useMutation(RemoveMember);

  async function apply(target: string, newRole: Role): Promise<boolean> {
    setError(null);
    setNotice(null);
    const result = await setMemberRole({ organizationId, email: target, role: newRole });
    if (result.error || !result.data) {
      setError(result.error ? errorText(result.error) : "no answer from the server");
      return false;
    }
    const member = result.data.setMemberRole;
    setNotice(`${member.email} is now ${member.role.toLowerCase()} of ${organizationName}.`);
    onChanged({ userId: member.userId, removed: false });
    return true;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (await apply(email.trim(), role)) setEmail("");
  }

  async function remove() {
    if (!removing) return;
    setRemoveError(null);
    const result = await removeMember({ organizationId, userId: removing.userId });
    if (result.error) {
      setRemoveError(errorText(result.error));
      return;
    }
    setNotice(`${removing.email} was removed from ${organizationName}.`);
    setRemoving(null);
    onChanged({ userId: removing.userId, removed: true });
  }

  return (
    <section className="members card" aria-labelledby={`members-${organizationId}`}>
      <h3 id={`members-${organizationId}`}>Members</h3>
      {members === undefined ? (
        <p className="muted">{unavailable ?? "Loading members…"}</p>
      ) : (
        <div className="table-scroll">
          <table className="grid" aria-label={`Members of ${organizationName}`}>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr key={member.userId}>
                  <td>
                    {member.email}
                    {member.userId === me && <span className="muted"> (you)</span>}
                  </td>
                  <td>
                    <select
                      aria-label={`Role of ${member.email}`}
                      value={member.role}
                      disabled={setting.fetching}
                      onChange={(event) => void apply(member.email, event.target.value as Role)}
                    >
                      {ROLES.map((r) => (
                        <option key={r.value} value={r.value}>
                          {r.label}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{formatWhen(member.since)}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="ghost small"
                      onClick={() => {
                        setRemoveError(null);
                        setRemoving(member);
                      }}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="add-member" aria-label={`Add a member to ${organizationName}`} onSubmit={(event) => void submit(event)}>
        <label className="field">
          Email
          <input type="email" required value={email} onChange={(event) => setEmail(event.target.value)} placeholder="person@example.com" />
        </label>
        <div className="field">
          <label htmlFor={`add-role-${organizationId}`}>Role</label>
          <select
            id={`add-role-${organizationId}`}
            value={role}
            onChange={(event) => setRole(event.target.value as Role)}
            aria-describedby={`add-role-hint-${organizationId}`}
          >
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={setting.fetching}>
          Set role
        </button>
      </form>
      <p className="muted hint" id={`add-role-hint-${organizationId}`}>
        {ROLES.map((r) => `${r.label}: ${r.hint}`).join(". ")}. The person needs an account on this server; setting a
        role adds them to {organizationName}.
      </p>
      <div aria-live="polite">
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {notice && !error && <p className="notice">{notice}</p>}
      </div>

      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.email}?`}
          confirmLabel="Remove member"
          busy={removed.fetching}
          error={removeError}
          onConfirm={() => void remove()}
          onCancel={() => setRemoving(null)}
        >
          <p>
            <strong>{removing.email}</strong> ({removing.role.toLowerCase()}) loses access to {organizationName} and all
            its projects.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
