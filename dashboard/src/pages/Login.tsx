import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router-dom";
import { changePassword, login, session } from "../api/auth";

export function LoginPage() {
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const [mustChange, setMustChange] = useState(session()?.mustChangePassword ?? false);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mustChange) {
        await changePassword(password, newPassword);
        navigate(from, { replace: true });
      } else {
        const started = await login(email, password);
        if (started.mustChangePassword) setMustChange(true);
        else navigate(from, { replace: true });
      }
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login">
      <form className="card" onSubmit={(event) => void submit(event)} aria-label="Log in">
        <h1>AgentTrace</h1>
        {mustChange ? (
          <>
            <p>Choose a new password to replace your one-time password.</p>
            <label>
              Current password
              <input type="password" autoComplete="current-password" value={password}
                onChange={(event) => setPassword(event.target.value)} required />
            </label>
            <label>
              New password (12 characters or more)
              <input type="password" autoComplete="new-password" value={newPassword}
                onChange={(event) => setNewPassword(event.target.value)} minLength={12} required />
            </label>
          </>
        ) : (
          <>
            <label>
              Email
              <input type="email" autoComplete="username" value={email}
                onChange={(event) => setEmail(event.target.value)} required autoFocus />
            </label>
            <label>
              Password
              <input type="password" autoComplete="current-password" value={password}
                onChange={(event) => setPassword(event.target.value)} required />
            </label>
          </>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>
          {mustChange ? "Change password" : "Log in"}
        </button>
      </form>
    </div>
  );
}
