//! The store conformance table: what every client, token and revocation store must do, run by
//! `jeton-memory`, `jeton-sqlite` and `jeton-postgres` alike (feature `store`).
//!
//! Each function takes the store under test as trait objects and panics on the first
//! difference. Where a store differs by nature (how rows are counted, whether purging is
//! bounded) the caller passes a closure, not a common trait.
//!
//! Instants are whole seconds from [`crate::now`], so every store can round-trip them exactly.

use crate::now;
use jeton::time::{Duration, OffsetDateTime};
use jeton::{
    ClientId, ClientRecord, ClientRegistry, ClientStore, Confirmation, DefaultScope, Engine,
    OpaqueIssuer, RawRequest, RegisteredSecret, ReplayKey, ReplayStore, Resource, RevocationList,
    Scope, SecretId, SecretVerifier, SystemRandom, TokenClaims, TokenDigest, TokenRecord,
    TokenStore, Transport, encode_basic,
};
use std::future::Future;
use std::sync::Arc;

/// A token record: the one place this table builds one, so a change of the record's shape
/// touches one function.
pub fn token(name: &str, client: &str, issued_at: OffsetDateTime, life: Duration) -> TokenRecord {
    let claims = TokenClaims::new(
        ClientId::new(client).expect("client id"),
        client.to_owned(),
        Scope::parse("read write").expect("scope"),
        vec![
            Resource::new("https://api.example.com/").expect("resource"),
            Resource::new("urn:example:other").expect("resource"),
        ],
        issued_at,
        issued_at + life,
    );
    TokenRecord::new(TokenDigest::of(name), claims)
}

/// [`token`] with a `jti` in its claims, which a store must round-trip too.
pub fn token_with_jti(name: &str, client: &str, issued_at: OffsetDateTime) -> TokenRecord {
    let r = token(name, client, issued_at, Duration::hours(1));
    TokenRecord::new(r.digest, r.claims.with_jti(format!("jti-{name}")))
}

/// [`token`] bound to a DPoP key (`cnf.jkt`, RFC 9449 §6), which a store must round-trip: a
/// store that dropped the binding would let the token be used as a plain Bearer token.
pub fn token_dpop_bound(name: &str, client: &str, issued_at: OffsetDateTime) -> TokenRecord {
    let r = token_with_jti(name, client, issued_at);
    TokenRecord::new(
        r.digest,
        r.claims.with_confirmation(Confirmation::jkt(
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
        )),
    )
}

fn verifier(secret: &str) -> SecretVerifier {
    // HMAC: cheap, so the table runs fast; PBKDF2 verifiers are stored the same way (text).
    SecretVerifier::hmac_sha256(secret, &SystemRandom::new()).expect("rng")
}

fn cid(s: &str) -> ClientId {
    ClientId::new(s).expect("client id")
}

/// A client with every setting away from its default, and two secrets (one expiring).
pub fn full_client(id: &str, secret: &str) -> ClientRecord {
    ClientRecord::builder(cid(id))
        .secret(verifier(secret))
        .secret_expiring(verifier("old-secret"), now() + Duration::days(7))
        .scopes(Scope::parse("read write admin").expect("scope"))
        .default_scope(DefaultScope::Fixed(Scope::parse("read").expect("scope")))
        .token_lifetime(Duration::minutes(5))
        .allowed_resources([Resource::new("https://api.example.com/").expect("resource")])
        .default_audience([Resource::new("https://api.example.com/").expect("resource")])
        .may_introspect(true)
        .introspect_audiences([Resource::new("urn:example:rs").expect("resource")])
        .build()
}

/// Every [`TokenStore`] method: unknown is `None`, a record comes back equal, revocation
/// removes it once, an expired record is still returned (callers check expiry).
pub async fn token_store(s: &dyn TokenStore) {
    let t0 = now();
    assert_eq!(s.get(&TokenDigest::of("unknown")).await.unwrap(), None);
    assert!(!s.revoke(&TokenDigest::of("unknown")).await.unwrap());

    let a = token("a", "client-a", t0, Duration::hours(1));
    let b = token("b", "client-b", t0, Duration::seconds(1));
    let c = token_with_jti("c", "client-c", t0);
    for r in [&a, &b, &c] {
        s.insert(&r.digest, &r.claims).await.unwrap();
    }
    assert_eq!(s.get(&a.digest).await.unwrap(), Some(a.clone()));
    assert_eq!(s.get(&c.digest).await.unwrap(), Some(c), "jti kept");
    let d = token_dpop_bound("d", "client-d", t0);
    s.insert(&d.digest, &d.claims).await.unwrap();
    let got_d = s.get(&d.digest).await.unwrap();
    assert_eq!(got_d, Some(d), "DPoP binding (cnf.jkt) kept");
    let got_b = s.get(&b.digest).await.unwrap().expect("b stored");
    assert!(
        !got_b.is_active(t0 + Duration::seconds(1)),
        "expired, still returned"
    );

    assert!(s.revoke(&a.digest).await.unwrap());
    assert_eq!(s.get(&a.digest).await.unwrap(), None, "revoked is gone");
    assert!(
        !s.revoke(&a.digest).await.unwrap(),
        "second revoke finds nothing"
    );
    assert_eq!(s.get(&b.digest).await.unwrap(), Some(b), "others untouched");
}

/// Every [`RevocationList`] method: unknown is not revoked, revoked stays revoked, repeats are
/// harmless.
pub async fn revocation_list(r: &dyn RevocationList) {
    let t0 = now();
    assert!(!r.is_revoked("unknown").await.unwrap());
    r.revoke_jti("j1", t0 + Duration::hours(1), t0)
        .await
        .unwrap();
    assert!(r.is_revoked("j1").await.unwrap());
    r.revoke_jti("j1", t0 + Duration::hours(1), t0 + Duration::seconds(5))
        .await
        .unwrap();
    assert!(r.is_revoked("j1").await.unwrap(), "a repeat keeps it");
    assert!(!r.is_revoked("j2").await.unwrap());
    // A later revocation purging expired entries must not drop live ones.
    r.revoke_jti("j2", t0 + Duration::hours(2), t0 + Duration::minutes(30))
        .await
        .unwrap();
    assert!(r.is_revoked("j1").await.unwrap() && r.is_revoked("j2").await.unwrap());
}

/// Every [`ReplayStore`] rule: a first use is recorded (`true`), a repeat while it lives is a
/// replay (`false`, and does not extend it), keys never collide, and once its window has
/// closed the value is fresh again (`true`, recorded anew).
pub async fn replay_store(r: &dyn ReplayStore) {
    let t0 = now();
    let k = ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "client-a", "jti-1");
    let exp = t0 + Duration::seconds(60);
    assert!(r.insert_if_absent(&k, exp, t0).await.unwrap(), "first use");
    assert!(
        !r.insert_if_absent(&k, exp, t0 + Duration::seconds(1))
            .await
            .unwrap(),
        "replay refused"
    );
    assert!(
        !r.insert_if_absent(&k, t0 + Duration::hours(1), t0 + Duration::seconds(59))
            .await
            .unwrap(),
        "still refused one second before expiry"
    );
    for other in [
        ReplayKey::new(ReplayKey::DPOP_PROOF, "client-a", "jti-1"),
        ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "client-b", "jti-1"),
        ReplayKey::new(ReplayKey::CLIENT_ASSERTION, "client-a", "jti-2"),
    ] {
        assert!(
            r.insert_if_absent(&other, exp, t0).await.unwrap(),
            "another namespace, client or jti is another key"
        );
    }
    // The refused repeat did not extend the entry: at its expiry it is fresh again.
    assert!(
        r.insert_if_absent(&k, t0 + Duration::seconds(120), exp)
            .await
            .unwrap(),
        "after expiry the value is fresh again"
    );
    assert!(
        !r.insert_if_absent(&k, t0 + Duration::seconds(120), exp + Duration::seconds(1))
            .await
            .unwrap(),
        "and recorded anew with its new expiry"
    );
}

/// `tasks` concurrent first uses of one key, spread over `handles` (several pools on one
/// database, as several nodes): exactly one is recorded, the others are replays.
pub async fn concurrent_replay(handles: &[Arc<dyn ReplayStore>], tasks: usize) {
    let t0 = now();
    let k = ReplayKey::new(ReplayKey::DPOP_PROOF, "jkt-concurrent", "jti-race");
    let start = Arc::new(tokio::sync::Barrier::new(tasks));
    let running: Vec<_> = (0..tasks)
        .map(|i| {
            let (r, start) = (handles[i % handles.len()].clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                r.insert_if_absent(&k, t0 + Duration::seconds(60), t0)
                    .await
                    .expect("insert_if_absent")
            })
        })
        .collect();
    let mut firsts = 0;
    for h in running {
        firsts += usize::from(h.await.expect("task"));
    }
    assert_eq!(
        firsts, 1,
        "exactly one of {tasks} concurrent uses is the first"
    );
}

/// Every [`ClientRegistry`] and [`ClientStore`] method on one handle.
pub async fn client_registry(r: &dyn ClientRegistry) {
    let id = cid("crud-client");
    assert!(r.client(&id).await.unwrap().is_none(), "unknown is None");
    for missing in [
        r.update_settings(full_client("crud-client", "x"))
            .await
            .unwrap(),
        r.add_secret(&id, RegisteredSecret::new(verifier("x")))
            .await
            .unwrap(),
        r.set_enabled(&id, false).await.unwrap(),
        r.delete_client(&id).await.unwrap(),
    ] {
        assert!(!missing, "operations on an unknown client report it");
    }

    let c = full_client("crud-client", "first-secret");
    assert!(r.create_client(c.clone()).await.unwrap());
    assert_eq!(
        r.client(&id).await.unwrap(),
        Some(std::sync::Arc::new(c.clone())),
        "round trip"
    );
    let other = ClientRecord::builder(id.clone()).build();
    assert!(!r.create_client(other).await.unwrap(), "id taken");
    assert_eq!(
        r.client(&id).await.unwrap(),
        Some(std::sync::Arc::new(c.clone())),
        "unchanged"
    );

    // Settings change, secrets stay.
    let mut changed = c.clone();
    changed.allowed_scopes = Scope::parse("read").expect("scope");
    changed.token_lifetime = None;
    changed.may_introspect = false;
    changed.secrets.clear();
    assert!(r.update_settings(changed.clone()).await.unwrap());
    let got = r.client(&id).await.unwrap().expect("client");
    assert_eq!(got.allowed_scopes, changed.allowed_scopes);
    assert_eq!(got.token_lifetime, None);
    assert!(!got.may_introspect);
    assert_eq!(got.secrets, c.secrets, "update_settings keeps secrets");

    // Add a secret; adding it again only updates its expiry.
    let new = verifier("second-secret");
    assert!(
        r.add_secret(&id, RegisteredSecret::new(new.clone()))
            .await
            .unwrap()
    );
    let until = now() + Duration::days(30);
    assert!(
        r.add_secret(&id, RegisteredSecret::expiring(new.clone(), until))
            .await
            .unwrap()
    );
    let got = r.client(&id).await.unwrap().expect("client");
    assert_eq!(got.secrets.len(), 3);
    assert_eq!(got.secrets[..2], c.secrets[..], "order kept");
    assert_eq!(
        got.secrets[2],
        RegisteredSecret::expiring(new.clone(), until)
    );

    // Retire the first secret with overlap, then remove the old one.
    let first = SecretId::of(&c.secrets[0].verifier);
    let at = now() + Duration::hours(1);
    assert!(r.retire_secret(&id, &first, at).await.unwrap());
    let got = r.client(&id).await.unwrap().expect("client");
    assert_eq!(got.secrets[0].expires_at, Some(at));
    assert!(got.secrets[0].is_active(now()) && !got.secrets[0].is_active(at));
    let unknown = SecretId::parse("0000000000000000").expect("id");
    assert!(!r.retire_secret(&id, &unknown, at).await.unwrap());
    assert!(!r.retire_secret(&cid("nobody"), &first, at).await.unwrap());
    let old = SecretId::of(&c.secrets[1].verifier);
    assert!(r.remove_secret(&id, &old).await.unwrap());
    assert!(!r.remove_secret(&id, &old).await.unwrap());
    assert_eq!(
        r.client(&id).await.unwrap().expect("client").secrets.len(),
        2
    );

    // Hash upgrade on login replaces one verifier in place.
    let upgraded = verifier("first-secret");
    r.upgrade_verifier(&id, &c.secrets[0].verifier, upgraded.clone())
        .await
        .unwrap();
    let got = r.client(&id).await.unwrap().expect("client");
    assert_eq!(got.secrets[0].verifier, upgraded);
    assert_eq!(got.secrets[0].expires_at, Some(at), "expiry kept");

    // Disable, enable.
    assert!(r.set_enabled(&id, false).await.unwrap());
    assert!(!r.client(&id).await.unwrap().expect("client").enabled);
    assert!(r.set_enabled(&id, true).await.unwrap());
    assert!(r.client(&id).await.unwrap().expect("client").enabled);

    // put_client creates, then replaces whole (secrets included).
    let declared = full_client("declared", "declared-secret");
    r.put_client(declared.clone()).await.unwrap();
    assert_eq!(
        r.client(&declared.id).await.unwrap(),
        Some(std::sync::Arc::new(declared.clone()))
    );
    let redeclared = ClientRecord::builder(declared.id.clone())
        .secret(verifier("declared-secret-2"))
        .enabled(false)
        .build();
    r.put_client(redeclared.clone()).await.unwrap();
    assert_eq!(
        r.client(&declared.id).await.unwrap(),
        Some(std::sync::Arc::new(redeclared))
    );

    // Delete takes the secrets with it; re-creating starts clean.
    assert!(r.delete_client(&id).await.unwrap());
    assert!(r.client(&id).await.unwrap().is_none());
    assert!(!r.delete_client(&id).await.unwrap());
    let bare = ClientRecord::builder(id.clone()).build();
    assert!(r.create_client(bare.clone()).await.unwrap());
    assert_eq!(
        r.client(&id).await.unwrap(),
        Some(std::sync::Arc::new(bare))
    );
    assert!(r.delete_client(&id).await.unwrap());
    assert!(r.delete_client(&declared.id).await.unwrap());
}

/// [`ClientRegistry::list_clients`]: byte order of ids, pages, secrets included.
pub async fn client_listing(r: &dyn ClientRegistry) {
    // "B" < "a" < "a b" < "a~" < "b" in bytes; a locale collation would order them otherwise.
    let ids = ["b", "a~", "B", "a b", "a"];
    for id in ids {
        r.create_client(full_client(id, "s")).await.unwrap();
    }
    let all = r.list_clients(None, 100).await.unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(names, ["B", "a", "a b", "a~", "b"]);
    assert!(all.iter().all(|c| c.secrets.len() == 2), "secrets listed");

    let p1 = r.list_clients(None, 2).await.unwrap();
    let p2 = r.list_clients(Some(&p1[1].id), 2).await.unwrap();
    let p3 = r.list_clients(Some(&p2[1].id), 2).await.unwrap();
    let paged: Vec<&str> = p1
        .iter()
        .chain(&p2)
        .chain(&p3)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(paged, names);
    assert!(r.list_clients(Some(&p3[0].id), 2).await.unwrap().is_empty());
    assert!(r.list_clients(None, 0).await.unwrap().is_empty());
    for id in ids {
        assert!(r.delete_client(&cid(id)).await.unwrap());
    }
}

/// A rotation through `admin` is what `other` (another handle on the same data: another node)
/// sees at once, down to an engine built on `other`: the new secret works, the retired one
/// fails, a disabled client fails, a deleted one is unknown.
pub async fn rotation_across_handles(admin: &dyn ClientRegistry, other: Arc<dyn ClientStore>) {
    let engine = engine_on(
        other.clone(),
        Arc::new(jeton_memory::MemoryTokenStore::new()),
    );
    let status = |secret: &'static str| {
        let engine = &engine;
        async move { token_request(engine, "rotating", secret).await.0 }
    };
    let id = cid("rotating");
    let client = ClientRecord::builder(id.clone())
        .secret(verifier("rotating-secret-1"))
        .default_scope(DefaultScope::AllAllowed)
        .scopes(Scope::parse("read").expect("scope"))
        .build();
    assert!(admin.create_client(client.clone()).await.unwrap());
    assert_eq!(status("rotating-secret-1").await, 200);
    assert_eq!(status("rotating-secret-2").await, 401);

    let new = RegisteredSecret::new(verifier("rotating-secret-2"));
    assert!(admin.add_secret(&id, new).await.unwrap());
    assert_eq!(
        other
            .client(&id)
            .await
            .unwrap()
            .expect("client")
            .secrets
            .len(),
        2
    );
    assert_eq!(
        status("rotating-secret-2").await,
        200,
        "new secret, no restart"
    );
    assert_eq!(status("rotating-secret-1").await, 200, "overlap");

    let old = SecretId::of(&client.secrets[0].verifier);
    assert!(admin.retire_secret(&id, &old, now()).await.unwrap());
    assert_eq!(status("rotating-secret-1").await, 401, "retired");
    assert_eq!(status("rotating-secret-2").await, 200);

    assert!(admin.set_enabled(&id, false).await.unwrap());
    assert_eq!(status("rotating-secret-2").await, 401, "disabled");
    assert!(admin.delete_client(&id).await.unwrap());
    assert!(other.client(&id).await.unwrap().is_none());
    assert_eq!(status("rotating-secret-2").await, 401, "deleted");
}

/// `tasks` tasks insert `per_task` tokens each at once; afterwards every one is found.
pub async fn concurrent_issuance(s: Arc<dyn TokenStore>, tasks: usize, per_task: usize) {
    let t0 = now();
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let s = s.clone();
        set.spawn(async move {
            for i in 0..per_task {
                let r = token(&format!("c-{task}-{i}"), "many", t0, Duration::hours(1));
                s.insert(&r.digest, &r.claims)
                    .await
                    .expect("concurrent insert");
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("task");
    }
    for task in 0..tasks {
        for i in 0..per_task {
            let d = TokenDigest::of(&format!("c-{task}-{i}"));
            assert!(s.get(&d).await.unwrap().is_some(), "token {task}/{i} lost");
        }
    }
}

/// Steady load: `rounds` issuances and JWT revocations, one a second, each living 10 s. The
/// store must keep at most `live + slack` rows of each kind, with no purge call: expired rows
/// go as new ones arrive. `counts` gives (tokens, revocation entries) held.
pub async fn steady_load_stays_bounded<F, Fut>(
    s: &dyn TokenStore,
    r: &dyn RevocationList,
    counts: F,
    rounds: u32,
    slack: u64,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = (u64, u64)>,
{
    const LIFE: i64 = 10;
    let t0 = now();
    let mut peak = (0, 0);
    for i in 0..rounds {
        let at = t0 + Duration::seconds(i64::from(i));
        let t = token(
            &format!("steady-{i}"),
            "steady",
            at,
            Duration::seconds(LIFE),
        );
        s.insert(&t.digest, &t.claims).await.unwrap();
        r.revoke_jti(&format!("steady-{i}"), at + Duration::seconds(LIFE), at)
            .await
            .unwrap();
        if i % 50 == 49 {
            let (t, j) = counts().await;
            peak = (peak.0.max(t), peak.1.max(j));
        }
    }
    let bound = LIFE as u64 + slack;
    assert!(
        peak.0 <= bound && peak.1 <= bound,
        "after {rounds} rounds, peak rows (tokens, revocations) = {peak:?}, bound {bound}"
    );
    // The newest tokens and revocations are still there.
    let last = format!("steady-{}", rounds - 1);
    assert!(s.get(&TokenDigest::of(&last)).await.unwrap().is_some());
    assert!(r.is_revoked(&last).await.unwrap());
}

/// A bounded purge: `purge(now, max)` deletes at most `max` expired rows per call, oldest
/// first, never a live one, and reports how many it deleted.
pub async fn bounded_purge<P, PF, C, CF>(
    s: &dyn TokenStore,
    r: &dyn RevocationList,
    purge: P,
    counts: C,
) where
    P: Fn(OffsetDateTime, u32) -> PF,
    PF: Future<Output = u64>,
    C: Fn() -> CF,
    CF: Future<Output = (u64, u64)>,
{
    let t0 = now();
    // 40 tokens and 20 revocations expire at t0 + 1 s .. ; 5 of each live for an hour. All
    // issued at t0, so inserting them purges nothing.
    for i in 0..40 {
        let life = Duration::seconds(1 + i64::from(i));
        let t = token(&format!("p-{i}"), "purge", t0, life);
        s.insert(&t.digest, &t.claims).await.unwrap();
    }
    for i in 0..20 {
        r.revoke_jti(&format!("p-{i}"), t0 + Duration::seconds(1 + i), t0)
            .await
            .unwrap();
    }
    for i in 0..5 {
        let t = token(&format!("live-{i}"), "purge", t0, Duration::hours(1));
        s.insert(&t.digest, &t.claims).await.unwrap();
        r.revoke_jti(&format!("live-{i}"), t0 + Duration::hours(1), t0)
            .await
            .unwrap();
    }
    assert_eq!(counts().await, (45, 25));

    let later = t0 + Duration::minutes(10);
    assert_eq!(purge(later, 25).await, 25, "at most the batch");
    assert!(
        s.get(&TokenDigest::of("p-0")).await.unwrap().is_none(),
        "oldest first"
    );
    assert!(s.get(&TokenDigest::of("p-39")).await.unwrap().is_some());
    assert_eq!(purge(later, 25).await, 25);
    assert_eq!(purge(later, 25).await, 10);
    assert_eq!(purge(later, 25).await, 0);
    assert_eq!(counts().await, (5, 5), "live rows stay");
    for i in 0..5 {
        assert!(
            s.get(&TokenDigest::of(&format!("live-{i}")))
                .await
                .unwrap()
                .is_some()
        );
        assert!(r.is_revoked(&format!("live-{i}")).await.unwrap());
    }
}

/// What [`write_before_restart`] stored, for [`check_after_restart`].
#[derive(Debug)]
pub struct Persisted {
    token: TokenRecord,
    jti: &'static str,
    client: ClientRecord,
}

/// First half of the restart check: stores a token, a JWT revocation and a client. The caller
/// then closes the store and opens it again.
pub async fn write_before_restart(
    s: &dyn TokenStore,
    r: &dyn RevocationList,
    c: &dyn ClientRegistry,
) -> Persisted {
    let p = Persisted {
        token: token("kept", "kept-client", now(), Duration::hours(1)),
        jti: "kept-jwt",
        client: full_client("kept-client", "kept-secret"),
    };
    s.insert(&p.token.digest, &p.token.claims).await.unwrap();
    r.revoke_jti(p.jti, now() + Duration::hours(1), now())
        .await
        .unwrap();
    assert!(c.create_client(p.client.clone()).await.unwrap());
    p
}

/// Second half: after the restart, the token is still active, the revoked JWT still revoked
/// (RFC 7009 §2), the client still there.
pub async fn check_after_restart(
    s: &dyn TokenStore,
    r: &dyn RevocationList,
    c: &dyn ClientRegistry,
    p: &Persisted,
) {
    assert_eq!(s.get(&p.token.digest).await.unwrap(), Some(p.token.clone()));
    assert!(r.is_revoked(p.jti).await.unwrap(), "revoked stays revoked");
    assert_eq!(
        c.client(&p.client.id).await.unwrap(),
        Some(std::sync::Arc::new(p.client.clone()))
    );
}

/// A client `id` with one secret that may request every scope it has (`read`) without naming
/// it: the client the failure tests authenticate as.
pub fn client_with_secret(id: &str, secret: &str) -> ClientRecord {
    ClientRecord::builder(cid(id))
        .secret(verifier(secret))
        .scopes(Scope::parse("read").expect("scope"))
        .default_scope(DefaultScope::AllAllowed)
        .build()
}

/// An engine issuing opaque tokens on these stores (every request counts as TLS).
pub fn engine_on(clients: Arc<dyn ClientStore>, tokens: Arc<dyn TokenStore>) -> Engine {
    let rng = Arc::new(SystemRandom::new());
    let issuer = OpaqueIssuer::new(tokens, rng.clone());
    Engine::builder(clients, Arc::new(issuer))
        .random(rng)
        .transport(Transport::Tls)
        .build()
        .expect("engine")
}

/// Status and body of a client-credentials token request as `id`/`secret`, at [`now`].
pub async fn token_request(engine: &Engine, id: &str, secret: &str) -> (u16, String) {
    let auth = encode_basic(id, secret);
    let req = RawRequest::new("POST", b"grant_type=client_credentials", now())
        .content_type(b"application/x-www-form-urlencoded")
        .authorization(auth.as_bytes());
    let o = engine.handle_token_request(&req).await;
    let body = String::from_utf8_lossy(o.response.body()).into_owned();
    (o.response.status(), body)
}

/// What a store failure must look like through the engine: `500 server_error`, nothing
/// internal in the body (`detail` is a word the driver's error would contain).
pub fn assert_clean_500((status, body): &(u16, String), detail: &str) {
    assert_eq!(*status, 500, "{body}");
    assert!(body.contains("server_error"), "{body}");
    assert!(!body.to_lowercase().contains(detail), "{body}");
}
