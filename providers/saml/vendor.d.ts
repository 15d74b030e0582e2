// Minimal typings for the two CommonJS SAML libraries that ship none (only what this adapter uses).
declare module 'saml2-js' {
  export interface ServiceProviderOptions {
    entity_id: string;
    private_key: string;
    certificate: string;
    assert_endpoint: string;
    force_authn?: boolean;
    auth_context?: { comparison: 'exact' | 'minimum' | 'maximum' | 'better'; class_refs: string[] };
    nameid_format?: string;
    sign_get_request?: boolean;
  }
  export interface LoginRequestOptions {
    relay_state?: string;
    auth_context?: { comparison: 'exact' | 'minimum' | 'maximum' | 'better'; class_refs: string[] };
    force_authn?: boolean;
    nameid_format?: string;
    sign_get_request?: boolean;
  }
  export class ServiceProvider {
    constructor(options: ServiceProviderOptions);
    create_login_request_url(
      idp: IdentityProvider,
      options: LoginRequestOptions,
      cb: (err: Error | null, url: string, id: string) => void,
    ): void;
    create_metadata(): string;
  }
  export class IdentityProvider {
    constructor(options: {
      sso_login_url: string;
      sso_logout_url: string;
      certificates: string[];
      force_authn?: boolean;
      sign_get_request?: boolean;
    });
  }
  const saml2: { ServiceProvider: typeof ServiceProvider; IdentityProvider: typeof IdentityProvider };
  export default saml2;
}

declare module 'xml-encryption' {
  export interface DecryptOptions {
    key: string;
    disallowDecryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  export interface EncryptOptions {
    rsa_pub: string;
    pem: string;
    encryptionAlgorithm: string;
    keyEncryptionAlgorithm: string;
    keyEncryptionDigest?: string;
    disallowEncryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  export function decrypt(xml: string, options: DecryptOptions, cb: (err: Error | null, result?: string) => void): void;
  export function encrypt(
    content: string,
    options: EncryptOptions,
    cb: (err: Error | null, result?: string) => void,
  ): void;
  const xmlenc: { decrypt: typeof decrypt; encrypt: typeof encrypt };
  export default xmlenc;
}
