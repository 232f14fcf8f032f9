/**
 * Public types of model signing: the OpenSSF Model Signing (OMS) v1.0 format, as the
 * Python `model-signing` 1.1.1 package writes it (a Sigstore bundle v0.3 holding a DSSE
 * envelope over an in-toto Statement v1 whose predicate lists every file's sha256;
 * https://github.com/sigstore/model-transparency).
 */
import type { KeyObject } from 'node:crypto';

/**
 * How to sign a model (OMS v1.0).
 *
 * - `{ privateKey, passphrase?, certificateChain? }`: a PEM private key (PKCS#8, SEC1
 *   "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"; encrypted ones with `passphrase`) or a
 *   `KeyObject`. ECDSA P-256/P-384/P-521 sign with SHA-256/384/512 (by curve, as
 *   model_signing does); Ed25519 and RSA (PKCS#1 v1.5 with SHA-256) are accepted too, but
 *   only ECDSA bundles verify with Python's `model_signing verify key`. With
 *   `certificateChain` (PEM: the signing certificate first, then intermediates; the root
 *   may be left out) the bundle is in certificate mode.
 * - `{ publicKey, sign, certificateChain? }`: a callback (a KMS or HSM) that signs the bytes
 *   it is given (the DSSE pre-authentication encoding) and returns the signature: DER for
 *   ECDSA, raw for Ed25519 and RSA. `publicKey` is the matching public key (PEM or
 *   `KeyObject`): it gives the key hint and the signature is checked against it before
 *   anything is stored.
 * - `{ sigstore: { identityToken? } }`: keyless Sigstore signing (Fulcio certificate and
 *   Rekor entry) through the optional peer dependency `@sigstore/sign`; needs network
 *   access to the Sigstore public-good instance and an OIDC token.
 */
export type ModelSigner =
  | { privateKey: string | KeyObject; passphrase?: string; certificateChain?: string | string[] }
  | { publicKey: string | KeyObject; sign(data: Uint8Array): Promise<Uint8Array> | Uint8Array; certificateChain?: string | string[] }
  | { sigstore: { identityToken?: string } };

/**
 * How to verify a model's signature.
 *
 * - `{ publicKey }`: the bundle must be in key mode and signed by this key (PEM
 *   SubjectPublicKeyInfo or a public `KeyObject`), or by any one of a list of them (key
 *   rotation: the result's `keyHint` names the key that verified). A private key is
 *   `InvalidOptionError` (give its public half: `openssl pkey -in key.pem -pubout`).
 * - `{ certificate, identity? }`: the bundle must be in certificate mode, its chain must
 *   lead to one of these trusted root CA certificates (PEM), and its signing certificate
 *   must allow signing (key usage digitalSignature or extended key usage codeSigning);
 *   `identity`, when given, must equal one of the signing certificate's subject
 *   alternative names (email, URI or DNS name) or its subject common name.
 *
 * Both `publicKey` and `certificate` at once is `InvalidOptionError`.
 */
export type ModelVerification = ({ publicKey: string | KeyObject | Array<string | KeyObject> } | { certificate: string | string[]; identity?: string }) & {
  /**
   * Accept a bundle that carries no `<domain>/<model id>` binding (one `model_signing sign`
   * made on a folder, found inside the archive or stored beside it). Default `false`: such a
   * bundle is `SignatureError` `unbound`, because whoever can write the store could point
   * this model's metadata at any other archive the same key signed with model_signing and
   * it would verify. Set it only for models you know were signed that way.
   */
  allowUnbound?: boolean;
};

/** A model's signature, as `signModel`, `verifyModel` and `getSignature` describe it. */
export interface ModelSignatureInfo {
  /** `public-key`: key mode; `certificate`: an X.509 chain; `sigstore`: a Sigstore (Fulcio) bundle. */
  kind: 'public-key' | 'certificate' | 'sigstore';
  /** Key mode: the bundle's key hint (hex sha256 of the public key's PEM text, as model_signing writes it). */
  keyHint?: string;
  /** Certificate modes: the signing certificate's subject (`CN=...` lines, as Node prints it). */
  certificateSubject?: string;
  /** Certificate modes: the signing certificate's subject alternative names (`email:a@b`, `URI:...`, `DNS:...`). */
  certificateSan?: string[];
  /** The signed manifest: every file (posix path relative to the model's folder) and its hex sha256, sorted by name. */
  files: { name: string; sha256: string }[];
  /** The in-toto subject's name (the model's name as the signer gave it). */
  subjectName: string;
  /**
   * Whether the bundle binds the signature to this `<domain>/<model id>` (this library's
   * signatures do; a bundle `model_signing sign` made on a folder does not, and verifies
   * only with `allowUnbound: true`).
   */
  bound: boolean;
  /**
   * From a verification: the files of the model's folder the signature does not cover,
   * because the bundle's `ignore_paths` leave them out (`.gitattributes`, `.gitignore`, as
   * model_signing always does; any path the signer chose to ignore) or because they were
   * added at upload beside a folder's bundle (`model-info.json`). Absent when there are none.
   * A top-level `.git/` or `.github/` is never listed: it fails the verification (`tampered`).
   */
  unsigned?: string[];
  /** True when this call verified the signature and the files; false from `getSignature` (parsed only). */
  verified: boolean;
  /** The storage key of the bundle (`<folder of the archive>/model.sig`), or the archive's key when the bundle was found inside the archive. */
  key: string;
}

/** Why a signature check failed (`SignatureError.reason`). */
export type SignatureReason = 'unsigned' | 'unbound' | 'tampered' | 'wrong-key' | 'untrusted-certificate' | 'identity' | 'malformed' | 'unsupported' | 'signing-failed';
