//! Sanitization evidence: a device's storage media, the sanitization record of each medium,
//! a second person's verification, the activation-lock checks, and the one rule that says
//! which statuses that evidence lets a device reach.
//!
//! The records follow the sample certificate of NIST SP 800-88 Rev. 1, Appendix G (the form
//! auditors of R2v3, e-Stewards and NAID refurbishers use; Rev. 2 keeps its Clear / Purge /
//! Destroy categories): method type, method used, method details, tool and version,
//! verification method, outcome, who performed it and when, the data classification before
//! and after, and where the medium went.
//!
//! # The rule ([`evidence_blocked`])
//! - **Into `wiped`, and any move past it** (but `recycled`): every medium has a passed
//!   sanitization record, or the device declares that it has no storage media. What counts
//!   for a medium is its *latest* record that no correction superseded: a failed record
//!   blocks until a later passed one (a destruction included).
//! - **Into `ready`, `shipped` and `delivered`**, in addition: when quality sampling picked
//!   the device, a passed verification by someone who performed none of the records it
//!   checks, of the records as they stand (a correction makes an earlier verification
//!   stale); no failed verification of the standing records, sampled or not; and every
//!   activation lock ([`LockKind::ALL`])
//!   confirmed removed or not present. Locks are checked on every device, since a device's
//!   type is free text.
//! - **Into `recycled`**: no evidence is needed (the downstream processor destroys the media);
//!   the move records the processor and the date instead.
//!
//! Records are append-only: a correction is a new record naming the one it supersedes. Both
//! stay, and the certificate shows only the standing one.
//!
//! Everything here is pure: the services load the device's evidence from the store and ask
//! [`evidence_blocked`], so REST, the console and the bindings give the same answer.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, Digest, LocationId, MediumId, SanitizationId, UserId, VerificationId};
use crate::model::{DeviceStatus, Timestamp};

macro_rules! named_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident => $text:literal, $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vdoc])* $variant ),+
        }

        impl $name {
            /// Every value, in the order forms list them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and REST name, e.g. `"block_erase"`.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// How people read it, e.g. "Block erase".
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// What the value is of, for error messages.
            pub const WHAT: &'static str = $what;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }
    };
}

named_enum!(
    /// What a storage medium is.
    MediumKind, "medium kind" {
        /// A spinning hard disk.
        Hdd => "hdd", "Hard disk (HDD)",
        /// A SATA or SAS solid-state drive.
        Ssd => "ssd", "Solid-state drive (SSD)",
        /// An NVMe drive.
        Nvme => "nvme", "NVMe drive",
        /// eMMC or other soldered or removable flash (SD cards, USB sticks).
        Flash => "flash", "eMMC / flash",
        /// The built-in storage of a phone or tablet.
        Internal => "internal", "Internal storage of a phone or tablet",
        /// Anything else.
        Other => "other", "Other",
    }
);

named_enum!(
    /// NIST SP 800-88's method type (Clear, Purge, and Destroy as damage or destruction).
    MethodType, "method type" {
        /// Logical techniques against all user-addressable locations (e.g. overwriting).
        Clear => "clear", "Clear",
        /// Physical or logical techniques that make recovery infeasible with lab techniques
        /// (e.g. block erase, crypto erase, degaussing).
        Purge => "purge", "Purge",
        /// Destroy by damaging the medium (e.g. drilling, bending).
        Damage => "damage", "Damage",
        /// Destroy by destruction (shredding, disintegration, incineration).
        Destruct => "destruct", "Destruct",
    }
);

impl MethodType {
    /// Whether the method leaves the medium usable (clear or purge): only such devices are
    /// candidates for quality sampling, since a destroyed medium has nothing left to check.
    pub fn is_logical(self) -> bool {
        matches!(self, MethodType::Clear | MethodType::Purge)
    }

    /// Whether the method destroys the medium.
    pub fn destroys(self) -> bool {
        !self.is_logical()
    }
}

named_enum!(
    /// NIST SP 800-88's method used.
    MethodUsed, "method used" {
        /// A degausser.
        Degauss => "degauss", "Degauss",
        /// Overwriting every addressable location.
        Overwrite => "overwrite", "Overwrite",
        /// The drive's own block erase (ATA / NVMe sanitize).
        BlockErase => "block_erase", "Block erase",
        /// Destroying the media encryption key.
        CryptoErase => "crypto_erase", "Crypto erase",
        /// Anything else (say what in the method details).
        Other => "other", "Other",
    }
);

named_enum!(
    /// NIST SP 800-88's verification method.
    VerificationMethod, "verification method" {
        /// Every location read back.
        Full => "full", "Full",
        /// A sample of locations read back.
        QuickSampling => "quick_sampling", "Quick sampling",
        /// Anything else (say what in the method details).
        Other => "other", "Other",
    }
);

named_enum!(
    /// Whether a sanitization (or a verification of it) succeeded.
    Outcome, "outcome" {
        /// It succeeded.
        Passed => "passed", "Passed",
        /// It failed.
        Failed => "failed", "Failed",
    }
);

named_enum!(
    /// NIST SP 800-88's media destination.
    MediaDestination, "media destination" {
        /// Reused within the organisation.
        InternalReuse => "internal_reuse", "Internal reuse",
        /// Reused outside the organisation (the usual case: the device is given away).
        ExternalReuse => "external_reuse", "External reuse",
        /// Sent for recycling.
        Recycling => "recycling", "Recycling",
        /// Returned to the manufacturer.
        Manufacturer => "manufacturer", "Manufacturer",
        /// Anywhere else (say where in the notes).
        Other => "other", "Other",
    }
);

named_enum!(
    /// An activation lock that stops the next owner from using a device.
    LockKind, "activation lock" {
        /// Apple's Find My / iCloud Activation Lock.
        AppleFindMy => "apple_find_my", "Apple Find My / iCloud",
        /// Google's Factory Reset Protection.
        GoogleFrp => "google_frp", "Google Factory Reset Protection",
        /// Enrolment in an organisation's mobile device management.
        Mdm => "mdm", "MDM enrolment",
    }
);

named_enum!(
    /// What the check of one activation lock found.
    LockState, "lock state" {
        /// The lock was present and has been removed.
        Removed => "removed", "Removed",
        /// The lock was not present.
        NonePresent => "none_present", "None present",
    }
);

/// One storage medium of a device: a drive, a card, a phone's internal storage.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Medium {
    /// Primary key.
    pub id: MediumId,
    /// The device it is in (a drive moved to another device is moved, not copied).
    pub device: DeviceId,
    /// What it is.
    pub kind: MediumKind,
    /// Manufacturer (may be empty).
    pub make: String,
    /// Model (may be empty).
    pub model: String,
    /// Serial number; unique across the store.
    pub serial: String,
    /// Capacity in bytes, when known.
    pub capacity_bytes: Option<u64>,
    /// Creation time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Last change (a move to another device, a corrected model).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version.
    pub version: u64,
}

/// The sanitization of one medium, as NIST SP 800-88's sample certificate records it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanitization {
    /// Primary key (grows with time).
    pub id: SanitizationId,
    /// The device the medium was in when it was sanitized.
    pub device: DeviceId,
    /// The medium.
    pub medium: MediumId,
    /// Clear, purge, damage or destruct.
    pub method_type: MethodType,
    /// Degauss, overwrite, block erase, crypto erase or other.
    pub method_used: MethodUsed,
    /// Free text: passes, patterns, commands.
    pub method_details: String,
    /// The tool used.
    pub tool: String,
    /// Its version.
    pub tool_version: String,
    /// How the result was verified.
    pub verification_method: VerificationMethod,
    /// Passed or failed.
    pub outcome: Outcome,
    /// When the sanitization started.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub started_at: Timestamp,
    /// When it finished (not before it started).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub finished_at: Timestamp,
    /// Who performed it.
    pub performed_by: UserId,
    /// The classification of the data on the medium before (free text, e.g. "Confidential").
    pub data_classification: String,
    /// Its classification after (free text, e.g. "Unclassified").
    pub post_classification: String,
    /// Where the medium goes next.
    pub destination: MediaDestination,
    /// Free text.
    pub notes: String,
    /// The record this one corrects, if any (both stay; the corrected one no longer counts).
    pub supersedes: Option<SanitizationId>,
    /// The tool's own report, by the SHA-256 of its bytes ([`Report`]), in lowercase hex.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{64}$"))]
    pub report: Option<Digest>,
    /// Who entered the record (the performer, or a colleague entering it for them).
    pub recorded_by: Option<UserId>,
    /// When it was entered.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub recorded_at: Timestamp,
}

/// A second person's check of a device's sanitization records (NIST's validation).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Primary key (grows with time).
    pub id: VerificationId,
    /// The device.
    pub device: DeviceId,
    /// Who verified (never one of the records' performers).
    pub verified_by: UserId,
    /// When.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub verified_at: Timestamp,
    /// Whether the records held up.
    pub outcome: Outcome,
    /// The records checked: the deciding records of the device's media at the time.
    pub records: Vec<SanitizationId>,
    /// Free text.
    pub notes: String,
}

/// The confirmation that one activation lock is gone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockCheck {
    /// Which lock.
    pub kind: LockKind,
    /// Removed, or none present.
    pub state: LockState,
    /// Who confirmed it.
    pub checked_by: UserId,
    /// When.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub checked_at: Timestamp,
}

named_enum!(
    /// The format of a tool's report.
    ReportFormat, "report format" {
        /// A PDF document.
        Pdf => "pdf", "PDF",
        /// A JSON document.
        Json => "json", "JSON",
        /// A plain-text log.
        Log => "log", "Log",
    }
);

impl ReportFormat {
    /// The media type it is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Json => "application/json",
            ReportFormat::Log => "text/plain; charset=utf-8",
        }
    }
}

/// The largest tool report kept: 10 MiB.
pub const REPORT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// A sanitization tool's own report, kept in the store (so every server over one database
/// has it) under the SHA-256 of its bytes. Never changed, never deleted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// SHA-256 of the bytes (primary key).
    pub digest: Digest,
    /// PDF, JSON or log.
    pub format: ReportFormat,
    /// The file name it was uploaded with (may be empty).
    pub file_name: String,
    /// The bytes.
    #[serde(with = "bytes_base64")]
    pub bytes: Vec<u8>,
    /// Who uploaded it.
    pub uploaded_by: Option<UserId>,
    /// When.
    pub uploaded_at: Timestamp,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("digest", &self.digest)
            .field("format", &self.format)
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

mod bytes_base64 {
    use base64ct::{Base64, Encoding as _};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Base64::encode_string(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        Base64::decode_vec(&text).map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

/// Where a recycled device went: the downstream processor and the date.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recycling {
    /// The processor's location (of type recycler), when it is one; its name is copied into
    /// `processor`, which stays if the location is deleted later.
    pub location: Option<LocationId>,
    /// The processor's name.
    pub processor: String,
    /// When the device went.
    pub date: chrono::NaiveDate,
}

/// Whether quality sampling picked a device.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sample {
    /// Not drawn yet: its media are not all sanitized, or they were all destroyed.
    #[default]
    Undecided,
    /// Drawn and not picked.
    NotPicked,
    /// Picked: a verification is needed before `ready`.
    Picked,
}

/// Everything the rule looks at for one device.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceView<'a> {
    /// The device declares it has no storage media.
    pub no_media: bool,
    /// Its media.
    pub media: &'a [Medium],
    /// Every sanitization record of its media, corrected ones included, any order.
    pub records: &'a [Sanitization],
    /// Every verification of the device, any order.
    pub verifications: &'a [Verification],
    /// Its activation-lock checks (the latest per kind counts).
    pub locks: &'a [LockCheck],
    /// Whether sampling picked it.
    pub sample: Sample,
}

/// Why the evidence stops a status move; its `Display` is the sentence a technician reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceBlocked {
    /// No media recorded and no declaration that there are none.
    NoMedia,
    /// These media (by serial) have no standing record at all.
    NotSanitized(Vec<String>),
    /// These media's standing record failed.
    Failed(Vec<String>),
    /// Picked for sampling, and no passed verification covers the standing records.
    VerificationNeeded,
    /// The latest verification of the standing records failed.
    VerificationFailed,
    /// These locks are not confirmed removed or not present.
    Locks(Vec<LockKind>),
}

fn serials(list: &[String]) -> String {
    list.join(", ")
}

impl fmt::Display for EvidenceBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceBlocked::NoMedia => f.write_str(
                "No storage media recorded: add the device's media, or declare that it has none.",
            ),
            EvidenceBlocked::NotSanitized(s) if s.len() == 1 => {
                write!(f, "Medium {} has no sanitization record.", s[0])
            }
            EvidenceBlocked::NotSanitized(s) => {
                write!(f, "Media {} have no sanitization record.", serials(s))
            }
            EvidenceBlocked::Failed(s) if s.len() == 1 => write!(
                f,
                "The sanitization of medium {} failed: record a passed one, or its destruction.",
                s[0]
            ),
            EvidenceBlocked::Failed(s) => write!(
                f,
                "The sanitization of media {} failed: record passed ones, or their destruction.",
                serials(s)
            ),
            EvidenceBlocked::VerificationNeeded => f.write_str(
                "Picked for quality sampling: someone holding verifyWipes who did not perform \
                 the sanitization must verify it first.",
            ),
            EvidenceBlocked::VerificationFailed => f.write_str(
                "The verification of its sanitization failed: record the sanitization again, \
                 then have it verified.",
            ),
            EvidenceBlocked::Locks(kinds) => {
                let names: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
                write!(
                    f,
                    "Activation locks not confirmed removed or absent: {}.",
                    names.join(", ")
                )
            }
        }
    }
}

/// The records that stand: those no other record supersedes.
pub fn standing(records: &[Sanitization]) -> impl Iterator<Item = &Sanitization> {
    records
        .iter()
        .filter(|r| !records.iter().any(|c| c.supersedes == Some(r.id)))
}

/// The record that decides a medium's state: its latest standing record (by finish time,
/// then id), or `None` when it has none.
pub fn deciding(records: &[Sanitization], medium: MediumId) -> Option<&Sanitization> {
    standing(records)
        .filter(|r| r.medium == medium)
        .max_by_key(|r| (r.finished_at, r.id))
}

/// Whether every medium of the device has a passed deciding record, or it declares none;
/// the media check of [`evidence_blocked`].
pub fn media_blocked(view: &EvidenceView<'_>) -> Option<EvidenceBlocked> {
    if view.media.is_empty() {
        return (!view.no_media).then_some(EvidenceBlocked::NoMedia);
    }
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for m in view.media {
        match deciding(view.records, m.id) {
            None => missing.push(m.serial.clone()),
            Some(r) if r.outcome == Outcome::Failed => failed.push(m.serial.clone()),
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        Some(EvidenceBlocked::NotSanitized(missing))
    } else if !failed.is_empty() {
        Some(EvidenceBlocked::Failed(failed))
    } else {
        None
    }
}

/// The deciding records of the device's media (one per medium that has one), by id.
pub fn deciding_records<'a>(view: &EvidenceView<'a>) -> Vec<&'a Sanitization> {
    let mut out: Vec<&Sanitization> = view
        .media
        .iter()
        .filter_map(|m| deciding(view.records, m.id))
        .collect();
    out.sort_by_key(|r| r.id);
    out
}

/// The verification that counts for the device now: the latest one that checked exactly the
/// current deciding records, made by nobody who performed one of them. `None` when there is
/// none (a correction after a verification makes it stale).
pub fn current_verification<'a>(view: &EvidenceView<'a>) -> Option<&'a Verification> {
    let deciding = deciding_records(view);
    let ids: Vec<SanitizationId> = deciding.iter().map(|r| r.id).collect();
    view.verifications
        .iter()
        .filter(|v| {
            let mut checked = v.records.clone();
            checked.sort_unstable();
            checked == ids && deciding.iter().all(|r| r.performed_by != v.verified_by)
        })
        .max_by_key(|v| (v.verified_at, v.id))
}

/// The locks of [`LockKind::ALL`] that no check confirms removed or absent.
pub fn locks_open(locks: &[LockCheck]) -> Vec<LockKind> {
    LockKind::ALL
        .iter()
        .copied()
        .filter(|k| !locks.iter().any(|c| c.kind == *k))
        .collect()
}

/// Whether the device's evidence lets it move to `to`; `None` when it does. The lifecycle's
/// own rule ([`DeviceStatus::move_blocked`]) is checked separately, first.
pub fn evidence_blocked(to: DeviceStatus, view: &EvidenceView<'_>) -> Option<EvidenceBlocked> {
    use DeviceStatus as S;
    if matches!(to, S::Received | S::Recycled) {
        return None;
    }
    if let Some(b) = media_blocked(view) {
        return Some(b);
    }
    if matches!(to, S::Wiped | S::Refurbished) {
        return None;
    }
    // A failed verification blocks any device; a missing one only a sampled device.
    match current_verification(view) {
        Some(v) if v.outcome == Outcome::Failed => {
            return Some(EvidenceBlocked::VerificationFailed);
        }
        None if view.sample == Sample::Picked => {
            return Some(EvidenceBlocked::VerificationNeeded);
        }
        _ => {}
    }
    let open = locks_open(view.locks);
    (!open.is_empty()).then_some(EvidenceBlocked::Locks(open))
}

/// Whether the sampling draw is due: it has not been made, and the media are now all passed
/// with at least one logical (clear or purge) deciding record. A device whose media were all
/// destroyed is never drawn.
pub fn sample_due(view: &EvidenceView<'_>) -> bool {
    view.sample == Sample::Undecided
        && !view.media.is_empty()
        && media_blocked(view).is_none()
        && deciding_records(view)
            .iter()
            .any(|r| r.method_type.is_logical())
}

/// The draw itself: picked when the 16-bit number made from `random` falls below `share`
/// (0.0 to 1.0) of the range. Randomness is injected, so tests are exact.
pub fn sample_draw(share: f64, random: [u8; 2]) -> Sample {
    let x = u16::from_be_bytes(random) as f64 / 65536.0;
    if x < share.clamp(0.0, 1.0) {
        Sample::Picked
    } else {
        Sample::NotPicked
    }
}

/// The default share of logically sanitized devices sampling picks: 5 %.
pub const DEFAULT_SAMPLE_SHARE: f64 = 0.05;

/// Why a text is not an IMEI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImeiError {
    /// Not 15 digits.
    #[error("An IMEI is 15 digits.")]
    Shape,
    /// The last digit is not the Luhn check digit of the first 14.
    #[error("This is not a valid IMEI: its check digit is wrong.")]
    CheckDigit,
}

/// Checks an IMEI: 15 ASCII digits whose last is the Luhn check digit of the first 14
/// (3GPP TS 23.003). Spaces, dashes and slashes as printed on boxes (`35-209900-176148-1`)
/// are taken out first; the digits are returned.
pub fn parse_imei(text: &str) -> Result<String, ImeiError> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '/'))
        .collect();
    if digits.len() != 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ImeiError::Shape);
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                twice / 10 + twice % 10
            } else {
                d
            }
        })
        .sum();
    if sum.is_multiple_of(10) {
        Ok(digits)
    } else {
        Err(ImeiError::CheckDigit)
    }
}

#[cfg(test)]
mod tests;
