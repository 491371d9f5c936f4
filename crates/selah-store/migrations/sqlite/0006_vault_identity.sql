-- A user's vault identity (issue 5): the X25519 public key others encrypt to, and the private
-- key as an age file encrypted to the user's vault passphrase (scrypt), which the server can
-- neither open nor check beyond its format. `version` counts re-wraps, so two devices changing
-- the passphrase at once cannot silently overwrite each other.
CREATE TABLE vault_identities (
    user_id          TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    public_key       TEXT NOT NULL,
    wrapped_identity BLOB NOT NULL,
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
