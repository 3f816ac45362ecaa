//! The client store contract.

use crate::client::ClientRecord;
use crate::error::StoreError;
use crate::secret::SecretVerifier;
use crate::types::ClientId;

/// Where registered clients live.
///
/// Implementations: `jeton-memory` (in process), `jeton-postgres` (shared by several nodes), or
/// your own. Methods take `&self`; a store owns its interior mutability.
#[async_trait::async_trait]
pub trait ClientStore: Send + Sync {
    /// Looks a client up by id.
    ///
    /// Already validated by the engine: `id` is 1 to 255 `VSCHAR` characters. An unknown id is
    /// `Ok(None)`; `Err` is for infrastructure failure only, and becomes `500 server_error`.
    async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError>;

    /// Replaces the verifier `old` of client `id` with `new`, after `old` has just verified a
    /// presented secret and is weaker than the engine's current policy (hash upgrade on login,
    /// RFC 9700 §2.5).
    ///
    /// Already validated by the engine: the secret verified against `old` at this instant. A
    /// store that cannot update returns `Ok(())` (the default); an error is reported as a
    /// diagnostic and does not fail the token request.
    async fn upgrade_verifier(
        &self,
        id: &ClientId,
        old: &SecretVerifier,
        new: SecretVerifier,
    ) -> Result<(), StoreError> {
        let _ = (id, old, new);
        Ok(())
    }
}
