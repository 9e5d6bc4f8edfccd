// The options of an auth collection (PocketBase v0.23+ shape): password,
// OTP, MFA and OAuth2 sign-in, token lifetimes and email templates. The
// draft keeps the collection's JSON; secrets typed here ride in _secret
// until payload() puts them in place.
import { Field, Check, ListInput } from '../widgets.jsx'
import { TestEmail } from '../testemail.jsx'

// AUTH_DEFAULTS are the server's defaults for a new auth collection
// (schema.DefaultAuthOptions).
export const AUTH_DEFAULTS = {
  passwordAuth: { enabled: true, identityFields: ['email'] },
  authToken: { duration: 604800 },
  otp: { enabled: false, duration: 180, length: 8, emailTemplate: { subject: '', body: '' } },
  mfa: { enabled: false, duration: 1800, rule: '' },
  oauth2: { enabled: false, providers: [], mappedFields: {} },
  passwordResetToken: { duration: 1800 },
  emailChangeToken: { duration: 1800 },
  verificationToken: { duration: 259200 },
  fileToken: { duration: 180 },
  verificationTemplate: { subject: '', body: '' },
  resetPasswordTemplate: { subject: '', body: '' },
  confirmEmailChangeTemplate: { subject: '', body: '' },
  authAlert: { enabled: true, emailTemplate: { subject: '', body: '' } },
}
export const AUTH_KEYS = Object.keys(AUTH_DEFAULTS)

// PROVIDERS are the server's OAuth2 providers (package oauth2).
const PROVIDERS = ['apple', 'discord', 'facebook', 'github', 'gitlab', 'google', 'microsoft', 'oidc', 'x']

// MAPPED are the profile values a provider can fill on sign-up.
const MAPPED = [['name', 'name'], ['username', 'username'], ['avatarURL', 'avatar URL'], ['id', 'user id']]

const TOKENS = [
  ['authToken', 'Auth token'],
  ['verificationToken', 'Verification link'],
  ['passwordResetToken', 'Password reset link'],
  ['emailChangeToken', 'Email change link'],
  ['fileToken', 'Protected file token'],
]

// authPayload writes typed secrets over the stored ones (a provider whose
// secret field was left empty keeps its secret).
export function authPayload(out) {
  if (out.oauth2?.providers) {
    out.oauth2 = {
      ...out.oauth2,
      providers: out.oauth2.providers.map(({ _secret, _key, ...p }) => ({ ...p, clientSecret: _secret || p.clientSecret || '' })),
    }
  }
  return out
}

let providerSeq = 0

export function AuthOptions({ d, set, errors, clearErrors, fields, name }) {
  const get = (k) => ({ ...AUTH_DEFAULTS[k], ...(d[k] || {}) })
  // An edited option's error of the last save goes away.
  const patch = (k, p) => { clearErrors(k); set({ [k]: { ...get(k), ...p } }) }
  const err = (path) => errors[path]
  const num = (k, key, label, hint) => (
    <Field label={label} hint={hint} error={err(k + '.' + key)}>{(id, desc, bad) => (
      <input id={id} aria-describedby={desc} aria-invalid={bad || undefined} type="number" min="1" step="1" class="keep-wide" value={get(k)[key] ?? ''}
        onInput={(e) => patch(k, { [key]: e.currentTarget.value === '' ? 0 : parseInt(e.currentTarget.value, 10) })} />
    )}</Field>
  )
  const pw = get('passwordAuth')
  const otp = get('otp')
  const mfa = get('mfa')
  const oauth2 = get('oauth2')
  const alert = get('authAlert')
  const providers = oauth2.providers || []
  const setProvider = (i, p) => patch('oauth2', { providers: providers.map((x, j) => (j === i ? { ...x, ...p } : x)) })
  const fieldNames = fields.filter((f) => f.name && f.type !== 'password' && !f.hidden).map((f) => f.name)

  return (
    <fieldset class="auth-options">
      <legend>Auth options</legend>

      <fieldset>
        <legend>Password sign-in</legend>
        <Check label="Enable password sign-in" checked={pw.enabled} onChange={(v) => patch('passwordAuth', { enabled: v })} />
        <Field label="Identity fields" hint="Comma-separated fields a user may sign in with (each needs a unique index), e.g. email, username." error={err('passwordAuth.identityFields')}>{(id, desc) => (
          <ListInput id={id} desc={desc} value={pw.identityFields} onChange={(v) => patch('passwordAuth', { identityFields: v })} />
        )}</Field>
      </fieldset>

      <fieldset>
        <legend>One-time password (OTP)</legend>
        <Check label="Enable OTP sign-in (a code sent by email)" checked={otp.enabled} onChange={(v) => patch('otp', { enabled: v })} />
        <div class="row top">
          {num('otp', 'duration', 'OTP duration (seconds)')}
          {num('otp', 'length', 'OTP length (digits)', '4 to 32.')}
        </div>
      </fieldset>

      <fieldset>
        <legend>Multi-factor authentication (MFA)</legend>
        <Check label="Require a second sign-in method (MFA)" checked={mfa.enabled} onChange={(v) => patch('mfa', { enabled: v })} />
        <div class="row top">
          {num('mfa', 'duration', 'MFA duration (seconds)', 'How long the first method stays usable.')}
          <Field label="MFA rule" class="grow" hint="Empty: every user. Otherwise a filter over the user's record: MFA applies to the users it matches, e.g. verified = true." error={err('mfa.rule')}>{(id, desc) => (
            <input id={id} aria-describedby={desc} class="mono" value={mfa.rule || ''} onInput={(e) => patch('mfa', { rule: e.currentTarget.value })} />
          )}</Field>
        </div>
        <p class="hint">TOTP (authenticator apps) has no collection option: each user enrols with <code>POST /api/collections/{name || '…'}/totp/enroll</code> and then needs a code as the second factor.</p>
      </fieldset>

      <fieldset>
        <legend>OAuth2</legend>
        <Check label="Enable OAuth2 sign-in" checked={oauth2.enabled} onChange={(v) => patch('oauth2', { enabled: v })} />
        {providers.length === 0 && <p class="hint">No providers.</p>}
        <ol class="field-list">
          {providers.map((p, i) => {
            const n = i + 1
            const pe = (k) => err(`oauth2.providers.${i}.${k}`)
            return (
              <li class="field-row" key={p._key || (p._key = ++providerSeq)}>
                <div class="row top">
                  <Field label={`Provider ${n} name`} error={pe('name')}>{(id, desc) => (
                    <select id={id} aria-describedby={desc} value={p.name} onChange={(e) => setProvider(i, { name: e.currentTarget.value })}>
                      <option value="">Choose…</option>
                      {[...new Set([...PROVIDERS, p.name].filter(Boolean))].map((x) => <option key={x} value={x}>{x}</option>)}
                    </select>
                  )}</Field>
                  <Field label={`Provider ${n} client ID`} class="grow" error={pe('clientId')}>{(id, desc) => (
                    <input id={id} aria-describedby={desc} autocomplete="off" value={p.clientId || ''} onInput={(e) => setProvider(i, { clientId: e.currentTarget.value })} />
                  )}</Field>
                  <Field label={`Provider ${n} client secret`} class="grow" error={pe('clientSecret')}
                    hint={p._secret ? 'Replaced when you save.' : p.clientSecret ? 'Set; leave empty to keep it.' : 'Not set.'}>{(id, desc) => (
                    <input id={id} aria-describedby={desc} type="password" autocomplete="new-password" value={p._secret || ''} onInput={(e) => setProvider(i, { _secret: e.currentTarget.value })} />
                  )}</Field>
                  <button type="button" class="danger-link" aria-label={`Remove provider ${n}`} onClick={() => patch('oauth2', { providers: providers.filter((_, j) => j !== i) })}>Remove</button>
                </div>
                <details>
                  <summary>More options of provider {n}</summary>
                  <div class="options">
                    {[['displayName', 'display name'], ['authURL', 'auth URL'], ['tokenURL', 'token URL'], ['userInfoURL', 'user info URL'], ['issuer', 'issuer (OIDC discovery URL)']].map(([k, l]) => (
                      <Field key={k} label={`Provider ${n} ${l}`} error={pe(k)}>{(id, desc) => (
                        <input id={id} aria-describedby={desc} value={p[k] || ''} onInput={(e) => setProvider(i, { [k]: e.currentTarget.value })} />
                      )}</Field>
                    ))}
                  </div>
                </details>
              </li>
            )
          })}
        </ol>
        <button type="button" onClick={() => patch('oauth2', { providers: [...providers, { name: '', clientId: '', clientSecret: '', _key: ++providerSeq }] })}>Add provider</button>
        <h3 class="sub">Mapped fields</h3>
        <p class="hint">Fields filled from the provider's profile when a user signs up.</p>
        <div class="row top">
          {MAPPED.map(([k, l]) => (
            <Field key={k} label={`Field for the provider's ${l}`}>{(id) => (
              <select id={id} value={oauth2.mappedFields?.[k] || ''} onChange={(e) => {
                const mf = { ...(oauth2.mappedFields || {}) }
                if (e.currentTarget.value) mf[k] = e.currentTarget.value
                else delete mf[k]
                patch('oauth2', { mappedFields: mf })
              }}>
                <option value="">(none)</option>
                {fieldNames.map((f) => <option key={f} value={f}>{f}</option>)}
              </select>
            )}</Field>
          ))}
        </div>
      </fieldset>

      <fieldset>
        <legend>Token and link lifetimes</legend>
        <div class="row top">
          {TOKENS.map(([k, l]) => <span key={k}>{num(k, 'duration', `${l} duration (seconds)`)}</span>)}
        </div>
      </fieldset>

      <fieldset>
        <legend>Email templates</legend>
        <p class="hint">An empty subject or body keeps the built-in one. Placeholders: <code>{'{APP_NAME}'}</code>, <code>{'{APP_URL}'}</code>, <code>{'{ACTION_URL}'}</code>, <code>{'{OTP}'}</code> (OTP), <code>{'{ALERT_INFO}'}</code> (login alert).</p>
        <Template title="Verification email" value={get('verificationTemplate')} onChange={(v) => { clearErrors('verificationTemplate'); set({ verificationTemplate: v }) }} template="verification" name={name} errors={errors} path="verificationTemplate" />
        <Template title="Password reset email" value={get('resetPasswordTemplate')} onChange={(v) => { clearErrors('resetPasswordTemplate'); set({ resetPasswordTemplate: v }) }} template="password-reset" name={name} errors={errors} path="resetPasswordTemplate" />
        <Template title="Email change confirmation email" value={get('confirmEmailChangeTemplate')} onChange={(v) => { clearErrors('confirmEmailChangeTemplate'); set({ confirmEmailChangeTemplate: v }) }} template="email-change" name={name} errors={errors} path="confirmEmailChangeTemplate" />
        <Template title="OTP email" value={{ subject: '', body: '', ...otp.emailTemplate }} onChange={(v) => patch('otp', { emailTemplate: v })} template="otp" name={name} errors={errors} path="otp.emailTemplate" />
        <Template title="Login alert email" value={{ subject: '', body: '', ...alert.emailTemplate }} onChange={(v) => patch('authAlert', { emailTemplate: v })} template="login-alert" name={name} errors={errors} path="authAlert.emailTemplate">
          <Check label="Email users who sign in from a new device" checked={alert.enabled} onChange={(v) => patch('authAlert', { enabled: v })} />
        </Template>
      </fieldset>
    </fieldset>
  )
}

function Template({ title, value, onChange, template, name, errors, path, children }) {
  const custom = !!(value.subject || value.body)
  return (
    <details class="template">
      <summary>{title}{custom ? ' (custom)' : ''}</summary>
      {children}
      <Field label={`${title} subject`} error={errors[path + '.subject']}>{(id, desc) => (
        <input id={id} aria-describedby={desc} class="wide-input" value={value.subject || ''} onInput={(e) => onChange({ ...value, subject: e.currentTarget.value })} />
      )}</Field>
      <Field label={`${title} body`} hint="HTML." error={errors[path + '.body']}>{(id, desc) => (
        <textarea id={id} aria-describedby={desc} class="mono" rows={6} value={value.body || ''} onInput={(e) => onChange({ ...value, body: e.currentTarget.value })} />
      )}</Field>
      <TestEmail template={template} collection={name} label={`Send test ${title.toLowerCase()}`} />
    </details>
  )
}
