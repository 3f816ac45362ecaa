//! Schema versions: which embedded migrations a database still needs, and the refusal of a
//! schema newer than this build.

use jeton::StoreError;

/// The table, in each database, that records the applied migrations (one row per version).
pub const VERSION_TABLE: &str = "jeton_schema_version";

/// One embedded migration: a version (1, 2, 3, … without gaps) and the SQL that brings the
/// schema from the previous version to it.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Its version.
    pub version: i64,
    /// A short name, recorded beside the version.
    pub name: &'static str,
    /// The statements, run in one transaction.
    pub sql: &'static str,
}

/// What a `migrate()` call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationReport {
    /// The version found (0 for an empty database).
    pub from: i64,
    /// The version now.
    pub to: i64,
}

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database was migrated by a newer jeton. Running on it could misread or corrupt what
    /// that version wrote, so this build refuses.
    #[error(
        "the database schema is at version {found}, newer than version {known}, the latest this \
         build of jeton knows: upgrade jeton, or point it at another database"
    )]
    TooNew {
        /// The version found.
        found: i64,
        /// The latest version this build has.
        known: i64,
    },
    /// The database failed while reading or migrating the schema.
    #[error("schema migration failed: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SchemaError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(crate::store_error(e))
    }
}

/// The migrations a database at `current` still needs (all of them for an empty one), or
/// [`SchemaError::TooNew`].
pub fn pending(migrations: &[Migration], current: i64) -> Result<&[Migration], SchemaError> {
    debug_assert!(
        migrations
            .iter()
            .enumerate()
            .all(|(i, m)| m.version == i as i64 + 1),
        "migrations are numbered 1, 2, 3, … without gaps"
    );
    let known = migrations.last().map_or(0, |m| m.version);
    if current > known {
        return Err(SchemaError::TooNew {
            found: current,
            known,
        });
    }
    let done = usize::try_from(current.max(0)).unwrap_or(usize::MAX);
    Ok(&migrations[done.min(migrations.len())..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: [Migration; 2] = [
        Migration {
            version: 1,
            name: "a",
            sql: "",
        },
        Migration {
            version: 2,
            name: "b",
            sql: "",
        },
    ];

    #[test]
    fn pending_is_what_is_left_and_newer_is_refused() {
        assert_eq!(pending(&M, 0).unwrap().len(), 2);
        assert_eq!(pending(&M, 1).unwrap()[0].name, "b");
        assert!(pending(&M, 2).unwrap().is_empty());
        let e = pending(&M, 3).unwrap_err();
        assert!(
            e.to_string().contains("version 3, newer than version 2"),
            "{e}"
        );
    }
}
