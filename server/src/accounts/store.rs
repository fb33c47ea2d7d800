//! `accounts.json` in the data dir: the users, the API tokens and the paired devices (wall
//! displays), as one small JSON document
//! (docs/SECURITY.md shows it). Written whole, atomically: a temporary file beside it, synced,
//! then renamed over it, so a reader (the server) sees the old book or the new one, never half.
//! Writers (the command line, the server) hold `accounts.lock` while they read, change and
//! write, so two changes at once cannot lose one another.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::role::{Role, Subtree};
use crate::atomic_file::{self, Access};

/// The accounts file inside the data dir.
pub(crate) const ACCOUNTS_FILE: &str = "accounts.json";
/// The lock writers hold inside the data dir.
pub(crate) const LOCK_FILE: &str = "accounts.lock";
/// The newest file format read; a newer one is refused rather than misread. Format 2 adds the
/// users' `shift_end`, format 3 the paired `devices`; a book without them is still written in
/// the oldest format that holds it ([`format_for`]), so an older floorwatch keeps reading it
/// until they are used, and then says the file is newer instead of calling it damaged.
pub(crate) const FORMAT: u32 = 3;

/// Everything in `accounts.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountBook {
    pub(crate) format: u32,
    /// Sorted by name.
    #[serde(default)]
    pub(crate) users: Vec<User>,
    /// In order of creation; revoked tokens stay, marked, so their ids keep meaning something
    /// in the audit trail.
    #[serde(default)]
    pub(crate) tokens: Vec<StoredToken>,
    /// Paired screens, in order of pairing; revoked ones stay, marked, like tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) devices: Vec<StoredDevice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) scope: Subtree,
    /// Argon2id PHC string; `None` for accounts that sign in with tokens only (ingest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
    #[serde(default)]
    pub(crate) disabled: bool,
    /// When the user's sessions end each day, in the centre's time zone ("sessions end at shift
    /// end", shared/DOMAIN.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shift_end: Option<ShiftEnd>,
    pub(crate) created: jiff::Timestamp,
    pub(crate) changed: jiff::Timestamp,
}

/// A time of day, `HH:MM` (00:00 to 23:59), at which a user's shift ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShiftEnd(jiff::civil::Time);

impl ShiftEnd {
    /// The first moment after `now` at which this time of day comes in `tz`. On a day whose
    /// clocks skip the time (a DST gap) it is the moment the clocks reach past it; on a day
    /// they pass it twice, the first.
    pub(crate) fn next_after(
        self,
        now: jiff::Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Result<jiff::Timestamp, jiff::Error> {
        let today = now.to_zoned(tz.clone()).date();
        let mut day = today;
        loop {
            let at = day.to_datetime(self.0).to_zoned(tz.clone())?.timestamp();
            if at > now {
                return Ok(at);
            }
            day = day.tomorrow()?;
        }
    }
}

impl std::fmt::Display for ShiftEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl std::str::FromStr for ShiftEnd {
    type Err = String;

    fn from_str(text: &str) -> Result<ShiftEnd, String> {
        let bad = || format!("`{text}` is not a time of day: give HH:MM, 00:00 to 23:59");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let hour: i8 = h.parse().map_err(|_| bad())?;
        let minute: i8 = m.parse().map_err(|_| bad())?;
        jiff::civil::Time::new(hour, minute, 0, 0)
            .map(ShiftEnd)
            .map_err(|_| bad())
    }
}

floorwatch_core::serde_via_str!(ShiftEnd);

/// The format to write `book` in: 3 with devices, else 2 when a user has a shift end, else 1.
pub(crate) fn format_for(book: &AccountBook) -> u32 {
    if !book.devices.is_empty() {
        3
    } else if book.users.iter().any(|u| u.shift_end.is_some()) {
        2
    } else {
        1
    }
}

/// A paired screen (a wall TV): a principal of its own, with a role and a subtree like a user,
/// that signs in with a long-lived device credential instead of a password. Only the
/// credential's SHA-256 is kept (256 random bits: see [`super::token`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredDevice {
    /// Unique among devices not revoked; the same rules as user names.
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) scope: Subtree,
    /// SHA-256 of the device credential, lowercase hex.
    pub(crate) sha256: String,
    pub(crate) created: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revoked: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredToken {
    /// Public id, `tok_` and 8 hex digits.
    pub(crate) id: String,
    /// The user it acts as.
    pub(crate) user: String,
    /// What it is for ("wall TV, 3rd floor"), as given at creation.
    #[serde(default)]
    pub(crate) label: String,
    /// SHA-256 of the token, lowercase hex; the token itself is never stored.
    pub(crate) sha256: String,
    pub(crate) created: jiff::Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) revoked: Option<jiff::Timestamp>,
}

impl AccountBook {
    pub(crate) fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    pub(crate) fn user_mut(&mut self, name: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.name == name)
    }

    /// The device of that name that is not revoked.
    pub(crate) fn active_device(&self, name: &str) -> Option<&StoredDevice> {
        self.devices
            .iter()
            .find(|d| d.name == name && d.revoked.is_none())
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "{path} has format {found}, newer than this floorwatch reads ({FORMAT}); use the \
         floorwatch that wrote it"
    )]
    Newer { path: PathBuf, found: u32 },
    #[error("the cluster's accounts ({bucket}): {reason}")]
    Shared { bucket: String, reason: String },
    #[error(
        "the accounts were changed on another node at the same moment; nothing was changed: \
         try again"
    )]
    Conflict,
}

/// The book in `path`; an empty one when the file does not exist yet.
pub(crate) fn load(path: &Path) -> Result<AccountBook, StoreError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(AccountBook {
                format: FORMAT,
                ..AccountBook::default()
            });
        }
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let book: AccountBook = serde_json::from_str(&text).map_err(|e| StoreError::Damaged {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if book.format > FORMAT {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found: book.format,
        });
    }
    Ok(book)
}

/// Writes `book` to `path` atomically ([`crate::atomic_file`]), readable by its owner only.
pub(crate) fn save(path: &Path, book: &AccountBook) -> Result<(), StoreError> {
    let io_err = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = serde_json::to_vec_pretty(book).map_err(|e| io_err(io::Error::other(e)))?;
    text.push(b'\n');
    atomic_file::replace(path, &text, Access::Private).map_err(io_err)
}

/// Held while a writer reads, changes and writes the book; released on drop.
pub(crate) struct WriteLock(#[allow(dead_code)] File);

/// Waits for the writers' lock of `data_dir`, creating the directory if needed.
pub(crate) fn lock(data_dir: &Path) -> Result<WriteLock, StoreError> {
    let path = data_dir.join(LOCK_FILE);
    let io_err = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err)?;
    file.lock().map_err(io_err)?;
    Ok(WriteLock(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AccountBook {
        let t = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        AccountBook {
            format: FORMAT,
            users: vec![User {
                name: "lead1".into(),
                role: Role::TeamLead,
                scope: Subtree::Team("t1".into()),
                password: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
                disabled: false,
                shift_end: None,
                created: t,
                changed: t,
            }],
            tokens: vec![StoredToken {
                id: "tok_0011aabb".into(),
                user: "lead1".into(),
                label: "script".into(),
                sha256: "ab".repeat(32),
                created: t,
                revoked: None,
            }],
            devices: Vec::new(),
        }
    }

    #[test]
    fn a_missing_file_is_an_empty_book() {
        let dir = tempfile::tempdir().unwrap();
        let book = load(&dir.path().join(ACCOUNTS_FILE)).unwrap();
        assert!(book.users.is_empty() && book.tokens.is_empty());
        assert_eq!(book.format, FORMAT);
    }

    #[test]
    fn saved_books_load_back_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap(), sample());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(ACCOUNTS_FILE)]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"scope\": \"team:t1\""), "{text}");
        assert!(text.contains("\"role\": \"team_lead\""), "{text}");
    }

    #[test]
    fn damaged_and_newer_files_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        std::fs::write(&path, "{\"format\": 1, \"users\": [").unwrap();
        let err = load(&path).unwrap_err();
        assert!(
            err.to_string().contains("accounts.json is damaged"),
            "{err}"
        );
        std::fs::write(&path, "{\"format\": 9}").unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, StoreError::Newer { found: 9, .. }), "{err}");
    }

    #[test]
    fn shift_ends_read_as_hh_mm_and_come_next_after_now() {
        let end: ShiftEnd = "17:30".parse().unwrap();
        assert_eq!(end.to_string(), "17:30");
        for bad in ["24:00", "7:30", "17:60", "17-30", "", "17:30:00"] {
            assert!(bad.parse::<ShiftEnd>().is_err(), "{bad}");
        }
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        // 09:00 in Shanghai (01:00Z): today at 17:30 (09:30Z).
        assert_eq!(
            end.next_after(at("2025-03-03T01:00:00Z"), &tz).unwrap(),
            at("2025-03-03T09:30:00Z")
        );
        // Exactly at it, or after: tomorrow's.
        assert_eq!(
            end.next_after(at("2025-03-03T09:30:00Z"), &tz).unwrap(),
            at("2025-03-04T09:30:00Z")
        );
        // A night shift ending 06:00 seen at 22:00: the next morning.
        let night: ShiftEnd = "06:00".parse().unwrap();
        assert_eq!(
            night.next_after(at("2025-03-03T14:00:00Z"), &tz).unwrap(),
            at("2025-03-03T22:00:00Z")
        );
        // A DST gap (New York, 2025-03-09 02:00 -> 03:00): 02:30 comes at 03:30 EDT.
        let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
        let gap: ShiftEnd = "02:30".parse().unwrap();
        assert_eq!(
            gap.next_after(at("2025-03-09T05:00:00Z"), &ny).unwrap(),
            at("2025-03-09T07:30:00Z")
        );
    }

    #[test]
    fn a_book_is_written_as_format_1_until_a_shift_end_is_set() {
        let mut book = sample();
        assert_eq!(format_for(&book), 1);
        book.users[0].shift_end = Some("18:00".parse().unwrap());
        assert_eq!(format_for(&book), 2);
        book.devices.push(StoredDevice {
            name: "lobby-tv".into(),
            role: Role::WallDisplay,
            scope: Subtree::Centre,
            sha256: "cd".repeat(32),
            created: book.users[0].created,
            revoked: None,
        });
        assert_eq!(format_for(&book), 3);
        let text = serde_json::to_string(&book).unwrap();
        assert_eq!(serde_json::from_str::<AccountBook>(&text).unwrap(), book);
        book.devices.clear();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        book.format = format_for(&book);
        save(&path, &book).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"shift_end\": \"18:00\""), "{text}");
        assert_eq!(load(&path).unwrap(), book);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        save(&path, &sample()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
