// Package totp implements the time-based one-time password second factor
// (RFC 6238, built on HOTP from RFC 4226) together with the pieces an
// application needs around it:
//
//   - [Generate] creates a random shared secret and its otpauth:// URI, and
//     [Key.PNG] renders that URI as a QR code for authenticator apps.
//   - [Code] and [Verify] compute and check 6-digit SHA-1 codes with a
//     30-second period, accepting one step of clock skew either way and
//     refusing to accept a step that was already used (replay protection).
//   - [NewRecoveryCodes] and [UseRecoveryCode] manage single-use recovery
//     codes that are stored only as SHA-256 hashes.
//   - [Sealer] encrypts TOTP secrets at rest with AES-256-GCM, binds each
//     ciphertext to its record through additional data, and supports key
//     rotation.
//
// The package is pure: apart from reading crypto/rand it has no I/O, no
// clock (callers pass the time) and no package-level mutable state, so all
// functions and a constructed [Sealer] are safe for concurrent use.
//
// A typical enrolment stores Sealer.Seal(secret, recordID) and the hashed
// recovery codes; a login calls Verify with the stored last-used step and, on
// success, persists the returned step before admitting the user.
package totp
