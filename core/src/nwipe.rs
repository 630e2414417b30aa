//! Reading nwipe's erasure reports: the JSON report parsed into an [`NwipeReport`], the PDF
//! report paired with its JSON by the serial in nwipe's file name, and nwipe's result in the
//! terms of NIST SP 800-88. Pure functions: no file is opened here.
//!
//! # nwipe
//!
//! nwipe is the disk wiper of ShredOS, the small Linux most refurbishers boot to wipe drives.
//! For each wiped drive it writes a PDF report (kept as the original) and, since 0.38, a JSON
//! report (read here) that fills the sanitization record of the drive, matched to a stored
//! storage medium by its serial.
//!
//! # What is accepted
//!
//! * The JSON report of `"report_schema": "org.nwipe.report.v1"`, `"report_type":
//!   "disk_erase_report"`, as nwipe writes it with cJSON, at most [`MAX_REPORT_BYTES`]
//!   (1 MiB; nwipe's are a few KiB). A UTF-8 byte-order mark is skipped; unknown keys are
//!   ignored.
//! * Required: `device.serial_number` (trimmed, not empty), `wipe.successful`, `wipe.status`,
//!   `wipe.method`, `wipe.verify`, `wipe.rounds_requested`, `wipe.rounds_completed`,
//!   `wipe.start_time`, `wipe.end_time` and `wipe.errors.pass`, `.verify` and `.fsyncdata`.
//!   Everything else (organisation, customer, host system, the drive's model, size and type,
//!   `errors.round`, the PRNG, `report_metadata`) may be missing and is then empty or `None`;
//!   but a key that is present must have the right type.
//! * Numbers: cJSON writes every number as a double, so `500107862016` may come as
//!   `5.00107862016e+11`. Any JSON number whose value is a whole number of 0 or more is
//!   accepted (a double only below 2^53, where doubles stop being exact); fractions and
//!   negative numbers are refused.
//! * Times are Unix seconds (the `*_text` keys are ignored); 0 (nwipe's "not recorded") is
//!   refused in `wipe.start_time`/`wipe.end_time`, and so is a time after the year 9999 or an
//!   end before the start. The duration is end minus start (`duration_seconds` is not read).
//! * nwipe's PDF and JSON file names, `nwipe_report_<time>_Model_<model>_Serial_<serial>`
//!   with an optional `_device_<terse name>` and `.pdf` or `.json` ([`serial_in_file_name`]).
//!
//! # What is refused
//!
//! Anything over 1 MiB (before parsing), anything that is not JSON, a JSON value that is not
//! an object, another `report_schema` or `report_type`, a `report_metadata.software` other
//! than `nwipe`, a missing or mistyped key, an empty serial, and unusable times: each as an
//! [`NwipeError`] whose message names the key.
//!
//! nwipe's **early draft** JSON (no `report_schema`, the results in a `wipe_result` object,
//! `device.serial_no`) is refused too ([`NwipeError::EarlyDraft`]): it records neither the
//! wipe method nor the verification, and its status ignores the error counts, so it cannot
//! fill a sanitization record; the PDF of such a wipe can still be kept by hand.
//!
//! # Passed or failed
//!
//! A report is [`NwipeOutcome::Failed`] when `wipe.successful` is false, or `wipe.status` is
//! not `"success"`, or any of `wipe.errors.pass`, `.verify`, `.fsyncdata` is not 0 (nwipe's own
//! verdict is the same rule, so a report where they disagree contradicts itself and is failed,
//! saying so). [`NwipeReport::failure_reasons`] says why in plain English. `errors.round` is
//! kept but, as in nwipe, decides nothing; nor does `rounds_completed` (nwipe's working-round
//! counter).
//!
//! # NIST SP 800-88
//!
//! nwipe overwrites, so a report is *Clear* by *Overwrite*, except for the methods that run a
//! command inside the drive, found by a word of the method label (first match wins):
//!
//! | method label contains | method type | method used | nwipe's labels |
//! | --- | --- | --- | --- |
//! | `crypto` | Purge | Crypto Erase | Sanitize Crypto Erase (ATA/SCSI/NVMe) |
//! | `block erase` | Purge | Block Erase | Sanitize Block Erase (ATA/SCSI/NVMe) |
//! | `sanitize overwrite` | Purge | Overwrite | Sanitize Overwrite (ATA/SCSI/NVMe) |
//! | `sanitize` | Purge | Other | (any other sanitize) |
//! | `secure erase` | Purge | Other | Secure Erase (ATA/NVMe), Secure Erase + PRNG + Verify |
//! | anything else | Clear | Overwrite | DoD Short, PRNG Stream, Gutmann Wipe, Fill With Zeros, ... |
//!
//! *Other* is the "Other" of NIST's sample certificate: ATA/NVMe Secure Erase leaves the
//! mechanism to the drive; the label is in [`NwipeReport::method_details`].
//!
//! Verification: `Verify Last Pass` and `Verify All Passes` read back the whole drive, so
//! [`VerificationMethod::Full`]; `Off` (or any other label) is no verification (`None`).
//! nwipe's `Verify Zeros`/`Verify Ones` methods write nothing: they read the whole drive back
//! to check an earlier overwrite ([`NwipeReport::is_verify_only`]), so they count as Clear by
//! Overwrite with full verification whatever the verify option says.
//!
//! # Serials in file names
//!
//! nwipe writes the serial into its file names with every byte that is not an ASCII letter or
//! digit replaced by `_` (so `S3Z9 NB0K-12` is `S3Z9_NB0K_12`, padding spaces become leading
//! or trailing `_`, and a non-ASCII character one `_` per UTF-8 byte). [`file_serial_matches`]
//! compares a real serial with such a file serial. nwipe also rewrites the drive's serial in
//! place this way when it names the PDF, so a JSON written after the PDF may hold the
//! sanitised serial too: match stored serials with [`file_serial_matches`] when an exact match
//! fails.
//!
//! [`pair_reports`] pairs each PDF with the JSON report (by its parsed serial) whose serial
//! matches the one in the PDF's name; when several do (the same drive wiped twice), the JSON
//! named like the PDF wins, and otherwise the PDF is reported as ambiguous. A JSON report
//! without a PDF is allowed.

use chrono::{DateTime, TimeDelta, Utc};

use crate::evidence::{MethodType, MethodUsed, VerificationMethod};
use serde_json::{Map, Value};

/// The largest report read, in bytes (1 MiB); larger input is refused before parsing.
pub const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// The `report_schema` of the JSON reports read here.
pub const REPORT_SCHEMA: &str = "org.nwipe.report.v1";

/// The `report_type` of nwipe's erase reports.
pub const REPORT_TYPE: &str = "disk_erase_report";

/// The largest double read as a whole number, 2^53 - 1: from 2^53 on, a double stands for
/// several whole numbers (9007199254740993 reads as 9007199254740992).
const MAX_EXACT_DOUBLE: f64 = 9_007_199_254_740_991.0;

/// 9999-12-31T23:59:59Z, the last time accepted.
const MAX_TIMESTAMP: u64 = 253_402_300_799;

/// The placeholder nwipe writes into file names for a drive with no serial.
const UNKNOWN_SERIAL: &str = "unknown_serial";

/// Whether a wipe can be trusted, by rehome's rule (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NwipeOutcome {
    /// nwipe says the wipe succeeded and the report shows no fault.
    Passed,
    /// nwipe says the wipe failed, or the report shows a fault; see
    /// [`NwipeReport::failure_reasons`].
    Failed,
}

/// The error counts of `wipe.errors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NwipeErrorCounts {
    /// `pass`: errors writing the drive.
    pub pass: u64,
    /// `verify`: blocks read back that did not hold what was written.
    pub verify: u64,
    /// `round`: nwipe's round errors (0 when missing); they do not fail a report.
    pub round: u64,
    /// `fsyncdata`: errors flushing writes to the drive.
    pub fsyncdata: u64,
}

/// `organization_details`: the refurbisher, from nwipe's configuration (empty when not set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NwipeOrganisation {
    /// `business_name`.
    pub business_name: String,
    /// `business_address`.
    pub business_address: String,
    /// `contact_name`.
    pub contact_name: String,
    /// `contact_phone`.
    pub contact_phone: String,
    /// `op_tech_name`: the technician who ran the wipe.
    pub technician: String,
}

/// `selected_customer`: whom the wipe was for, from nwipe's configuration (empty when not set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NwipeCustomer {
    /// `customer_name`.
    pub name: String,
    /// `customer_address`.
    pub address: String,
    /// `contact_name`.
    pub contact_name: String,
    /// `contact_phone`.
    pub contact_phone: String,
}

/// `system`: the machine nwipe ran on (from its DMI table), which for a laptop's own drive is
/// the donated device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NwipeHostSystem {
    /// `system_serial_number`.
    pub serial_number: String,
    /// `system_uuid`.
    pub uuid: String,
    /// `baseboard_serial_number`.
    pub baseboard_serial_number: String,
    /// `user_defined_tag`, from nwipe's configuration.
    pub user_defined_tag: String,
}

/// One nwipe JSON report, read by [`parse_json_report`]. Strings are as nwipe wrote them
/// except the serial and model, which are trimmed; an optional string that is missing is
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwipeReport {
    /// `report_metadata.version`: nwipe's version, e.g. `0.38`.
    pub software_version: String,
    /// `report_metadata.generated_at`, when present and not 0.
    pub generated_at: Option<DateTime<Utc>>,
    /// `device.name`, e.g. `/dev/sda`.
    pub device_name: String,
    /// `device.type`, e.g. `ATA`, `NVME`, `USB`.
    pub device_type: String,
    /// `device.model`, trimmed.
    pub model: String,
    /// `device.serial_number`, trimmed; never empty.
    pub serial: String,
    /// `device.size_bytes`.
    pub size_bytes: Option<u64>,
    /// `device.real_size_bytes`: the size nwipe found with hidden areas (HPA/DCO) included.
    pub real_size_bytes: Option<u64>,
    /// `wipe.method`: nwipe's method label, e.g. `DoD Short`.
    pub method: String,
    /// `wipe.prng`: the random generator's label, e.g. `Xoroshiro256` (may be empty).
    pub prng: String,
    /// `wipe.verify`: nwipe's verify label, `Off`, `Verify Last Pass` or `Verify All Passes`.
    pub verify: String,
    /// `wipe.rounds_requested`.
    pub rounds_requested: u64,
    /// `wipe.rounds_completed`.
    pub rounds_completed: u64,
    /// `wipe.start_time`.
    pub started: DateTime<Utc>,
    /// `wipe.end_time`; never before `started`.
    pub finished: DateTime<Utc>,
    /// `finished - started`.
    pub duration: TimeDelta,
    /// `wipe.errors`.
    pub errors: NwipeErrorCounts,
    /// `wipe.successful`: nwipe's own verdict.
    pub nwipe_successful: bool,
    /// `wipe.status`: `success` or `failure`.
    pub status: String,
    /// `wipe.status_text`: nwipe's status line (may be empty).
    pub status_text: String,
    /// Passed or failed, by rehome's rule.
    pub outcome: NwipeOutcome,
    /// Why the report is failed, one sentence each; empty when it passed.
    pub failure_reasons: Vec<String>,
    /// `organization_details`.
    pub organisation: NwipeOrganisation,
    /// `selected_customer`.
    pub customer: NwipeCustomer,
    /// `system`.
    pub system: NwipeHostSystem,
}

/// Why a JSON report cannot be read. Each message is a sentence naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NwipeError {
    /// Over [`MAX_REPORT_BYTES`]; refused before parsing.
    #[error(
        "The file is {size} bytes, over the 1 MiB an nwipe report may be (nwipe's are a few \
         KiB): it is not an nwipe JSON report."
    )]
    TooLarge {
        /// The input's size in bytes.
        size: usize,
    },
    /// Not JSON (or not UTF-8).
    #[error("The file is not JSON ({detail}): give the .json report nwipe wrote beside the PDF.")]
    NotJson {
        /// The parser's message, with line and column.
        detail: String,
    },
    /// JSON, but not an nwipe erase report of the schema read here.
    #[error("The file is not an nwipe erase report: {reason}.")]
    NotNwipeReport {
        /// What is wrong, e.g. the `report_schema` found.
        reason: String,
    },
    /// nwipe's early draft format, which is refused (see the [module docs](self)).
    #[error(
        "The file is an early-draft nwipe report (no report_schema, its results in \
         wipe_result): it does not record the wipe method or the verification, so it cannot \
         fill a sanitization record; use the report of nwipe 0.38 or later (\"report_schema\": \
         \"org.nwipe.report.v1\")."
    )]
    EarlyDraft,
    /// A required key is missing.
    #[error("The report's {field} is missing: {}", missing_hint(field))]
    Missing {
        /// The key's path, e.g. `wipe.errors.verify`.
        field: String,
    },
    /// A key has the wrong type, or a number is not a whole number of 0 or more.
    #[error("The report's {field} is {found}, not {expected}.")]
    WrongType {
        /// The key's path.
        field: String,
        /// What it should be, e.g. `a whole number of 0 or more`.
        expected: &'static str,
        /// What it is, e.g. `the text "3"` or `2.5`.
        found: String,
    },
    /// A time that cannot be right.
    #[error("The report's {field} is {value}, which is not a usable time: {reason}.")]
    Timestamp {
        /// The key's path.
        field: String,
        /// The Unix seconds found.
        value: u64,
        /// Why, e.g. `nwipe writes 0 when it did not record the time`.
        reason: &'static str,
    },
    /// `wipe.end_time` is before `wipe.start_time`.
    #[error(
        "The report's wipe.end_time ({finished}) is before its wipe.start_time ({started}): \
         the wiping machine's clock was changed during the wipe, so the report's times cannot \
         be trusted."
    )]
    FinishBeforeStart {
        /// `wipe.start_time`.
        started: DateTime<Utc>,
        /// `wipe.end_time`.
        finished: DateTime<Utc>,
    },
    /// `device.serial_number` is empty or only spaces.
    #[error(
        "The report's device.serial_number is empty: nwipe could not read the drive's serial; \
         give the medium with --device."
    )]
    EmptySerial,
}

fn missing_hint(field: &str) -> &'static str {
    match field {
        "device.serial_number" => {
            "nwipe could not read the drive's serial; give the medium with --device."
        }
        "device" => "the report does not say which drive was wiped.",
        "wipe" => "the report holds no wipe result, so it cannot show the drive was wiped.",
        _ => "nwipe writes it in every report, so the file was cut short or edited.",
    }
}

/// Reads one nwipe JSON report (see the [module docs](self) for what is accepted and refused).
pub fn parse_json_report(bytes: &[u8]) -> Result<NwipeReport, NwipeError> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(NwipeError::TooLarge { size: bytes.len() });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| NwipeError::NotJson {
        detail: e.to_string(),
    })?;
    let Value::Object(map) = &value else {
        return Err(NwipeError::NotNwipeReport {
            reason: format!("it is {}, not a JSON object", describe(&value)),
        });
    };
    check_schema(map)?;
    let root = Obj {
        map,
        path: String::new(),
    };

    let metadata = root.opt_object("report_metadata")?;
    let (software_version, generated_at) = match &metadata {
        Some(m) => {
            let software = m.opt_string("software")?;
            if !software.is_empty() && software != "nwipe" {
                return Err(NwipeError::NotNwipeReport {
                    reason: format!("its report_metadata.software is {software:?}, not \"nwipe\""),
                });
            }
            (m.opt_string("version")?, m.opt_timestamp("generated_at")?)
        }
        None => (String::new(), None),
    };

    let device = root.object("device")?;
    let serial = device.string("serial_number")?.trim().to_owned();
    if serial.is_empty() {
        return Err(NwipeError::EmptySerial);
    }

    let wipe = root.object("wipe")?;
    let nwipe_successful = wipe.bool("successful")?;
    let status = wipe.string("status")?.to_owned();
    let status_text = wipe.opt_string("status_text")?;
    let method = wipe.string("method")?.trim().to_owned();
    let verify = wipe.string("verify")?.trim().to_owned();
    let rounds_requested = wipe.whole("rounds_requested")?;
    let rounds_completed = wipe.whole("rounds_completed")?;
    let started = wipe.timestamp("start_time")?;
    let finished = wipe.timestamp("end_time")?;
    if finished < started {
        return Err(NwipeError::FinishBeforeStart { started, finished });
    }
    let e = wipe.object("errors")?;
    let errors = NwipeErrorCounts {
        pass: e.whole("pass")?,
        verify: e.whole("verify")?,
        round: e.opt_whole("round")?.unwrap_or(0),
        fsyncdata: e.whole("fsyncdata")?,
    };

    let failure_reasons = failure_reasons(nwipe_successful, &status, &status_text, &errors);
    let outcome = if failure_reasons.is_empty() {
        NwipeOutcome::Passed
    } else {
        NwipeOutcome::Failed
    };

    let organisation = match root.opt_object("organization_details")? {
        Some(o) => NwipeOrganisation {
            business_name: o.opt_string("business_name")?,
            business_address: o.opt_string("business_address")?,
            contact_name: o.opt_string("contact_name")?,
            contact_phone: o.opt_string("contact_phone")?,
            technician: o.opt_string("op_tech_name")?,
        },
        None => NwipeOrganisation::default(),
    };
    let customer = match root.opt_object("selected_customer")? {
        Some(c) => NwipeCustomer {
            name: c.opt_string("customer_name")?,
            address: c.opt_string("customer_address")?,
            contact_name: c.opt_string("contact_name")?,
            contact_phone: c.opt_string("contact_phone")?,
        },
        None => NwipeCustomer::default(),
    };
    let system = match root.opt_object("system")? {
        Some(s) => NwipeHostSystem {
            serial_number: s.opt_string("system_serial_number")?,
            uuid: s.opt_string("system_uuid")?,
            baseboard_serial_number: s.opt_string("baseboard_serial_number")?,
            user_defined_tag: s.opt_string("user_defined_tag")?,
        },
        None => NwipeHostSystem::default(),
    };

    Ok(NwipeReport {
        software_version,
        generated_at,
        device_name: device.opt_string("name")?,
        device_type: device.opt_string("type")?,
        model: device.opt_string("model")?.trim().to_owned(),
        serial,
        size_bytes: device.opt_whole("size_bytes")?,
        real_size_bytes: device.opt_whole("real_size_bytes")?,
        method,
        prng: wipe.opt_string("prng")?,
        verify,
        rounds_requested,
        rounds_completed,
        started,
        finished,
        duration: finished - started,
        errors,
        nwipe_successful,
        status,
        status_text,
        outcome,
        failure_reasons,
        organisation,
        customer,
        system,
    })
}

fn check_schema(map: &Map<String, Value>) -> Result<(), NwipeError> {
    let not = |reason: String| Err(NwipeError::NotNwipeReport { reason });
    match map.get("report_schema") {
        Some(Value::String(s)) if s == REPORT_SCHEMA => {}
        Some(Value::String(s)) => {
            return not(format!(
                "its report_schema is {s:?}, and rehome reads {REPORT_SCHEMA:?}"
            ));
        }
        Some(other) => {
            return not(format!(
                "its report_schema is {}, not text",
                describe(other)
            ));
        }
        None => {
            let draft_device = map
                .get("device")
                .and_then(Value::as_object)
                .is_some_and(|d| d.contains_key("serial_no"));
            if map.contains_key("wipe_result") || draft_device {
                return Err(NwipeError::EarlyDraft);
            }
            return not(format!(
                "it has no report_schema (nwipe's say {REPORT_SCHEMA:?})"
            ));
        }
    }
    match map.get("report_type") {
        Some(Value::String(s)) if s == REPORT_TYPE => Ok(()),
        Some(Value::String(s)) => not(format!("its report_type is {s:?}, not {REPORT_TYPE:?}")),
        Some(other) => not(format!("its report_type is {}, not text", describe(other))),
        None => not(format!(
            "it has no report_type (nwipe's say {REPORT_TYPE:?})"
        )),
    }
}

fn failure_reasons(
    successful: bool,
    status: &str,
    status_text: &str,
    errors: &NwipeErrorCounts,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if !successful {
        reasons
            .push("nwipe recorded the wipe as not successful (wipe.successful is false).".into());
    }
    if status != "success" {
        let text = status_text.trim();
        reasons.push(if text.is_empty() {
            format!("nwipe's wipe.status is {status:?}, not \"success\".")
        } else {
            format!("nwipe's wipe.status is {status:?} ({text}), not \"success\".")
        });
    }
    let counts = [
        (
            errors.pass,
            "pass error",
            "wipe.errors.pass",
            "part of the drive could not be written",
        ),
        (
            errors.verify,
            "verification error",
            "wipe.errors.verify",
            "what was read back did not match what was written",
        ),
        (
            errors.fsyncdata,
            "fsync error",
            "wipe.errors.fsyncdata",
            "writes could not be flushed to the drive",
        ),
    ];
    for (n, what, key, meaning) in counts {
        if n > 0 {
            let s = if n == 1 { "" } else { "s" };
            reasons.push(format!("nwipe counted {n} {what}{s} ({key}): {meaning}."));
        }
    }
    if successful && !reasons.is_empty() {
        reasons.push(
            "The report contradicts itself: wipe.successful is true, yet it shows the faults \
             above, so rehome counts the wipe as failed."
                .into(),
        );
    }
    reasons
}

/// A JSON object being read, with its path for error messages.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn required(&self, key: &str) -> Result<&'a Value, NwipeError> {
        self.map.get(key).ok_or_else(|| NwipeError::Missing {
            field: self.field(key),
        })
    }

    fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> NwipeError {
        NwipeError::WrongType {
            field: self.field(key),
            expected,
            found: describe(found),
        }
    }

    fn as_object(&self, key: &str, v: &'a Value) -> Result<Obj<'a>, NwipeError> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                path: self.field(key),
            }),
            other => Err(self.wrong(key, "an object", other)),
        }
    }

    fn object(&self, key: &str) -> Result<Obj<'a>, NwipeError> {
        self.as_object(key, self.required(key)?)
    }

    fn opt_object(&self, key: &str) -> Result<Option<Obj<'a>>, NwipeError> {
        self.map
            .get(key)
            .map(|v| self.as_object(key, v))
            .transpose()
    }

    fn string(&self, key: &str) -> Result<&'a str, NwipeError> {
        match self.required(key)? {
            Value::String(s) => Ok(s),
            other => Err(self.wrong(key, "text", other)),
        }
    }

    fn opt_string(&self, key: &str) -> Result<String, NwipeError> {
        match self.map.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.wrong(key, "text", other)),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, NwipeError> {
        match self.required(key)? {
            Value::Bool(b) => Ok(*b),
            other => Err(self.wrong(key, "true or false", other)),
        }
    }

    fn as_whole(&self, key: &str, v: &Value) -> Result<u64, NwipeError> {
        whole_number(v).ok_or_else(|| self.wrong(key, "a whole number of 0 or more", v))
    }

    fn whole(&self, key: &str) -> Result<u64, NwipeError> {
        self.as_whole(key, self.required(key)?)
    }

    fn opt_whole(&self, key: &str) -> Result<Option<u64>, NwipeError> {
        self.map.get(key).map(|v| self.as_whole(key, v)).transpose()
    }

    fn as_timestamp(&self, key: &str, secs: u64) -> Result<DateTime<Utc>, NwipeError> {
        let bad = |reason| NwipeError::Timestamp {
            field: self.field(key),
            value: secs,
            reason,
        };
        if secs == 0 {
            return Err(bad("nwipe writes 0 when it did not record the time"));
        }
        if secs > MAX_TIMESTAMP {
            return Err(bad("it is after the year 9999"));
        }
        i64::try_from(secs)
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(|| bad("it is after the year 9999"))
    }

    fn timestamp(&self, key: &str) -> Result<DateTime<Utc>, NwipeError> {
        let secs = self.whole(key)?;
        self.as_timestamp(key, secs)
    }

    /// A time that may be missing; 0 is `None` too.
    fn opt_timestamp(&self, key: &str) -> Result<Option<DateTime<Utc>>, NwipeError> {
        match self.opt_whole(key)? {
            None | Some(0) => Ok(None),
            Some(secs) => self.as_timestamp(key, secs).map(Some),
        }
    }
}

/// A JSON number that is a whole number of 0 or more, read exactly.
fn whole_number(v: &Value) -> Option<u64> {
    let Value::Number(n) = v else {
        return None;
    };
    if let Some(u) = n.as_u64() {
        return Some(u);
    }
    if n.is_i64() {
        return None; // negative
    }
    let f = n.as_f64()?;
    if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_EXACT_DOUBLE {
        // Whole, in range and exact: the cast neither truncates nor saturates.
        Some(f as u64)
    } else {
        None
    }
}

/// A short description of a JSON value for error messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            let more = if shown.len() < s.len() { "…" } else { "" };
            format!("the text {shown:?}{more}")
        }
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// NIST SP 800-88

/// The hand-written method table of the [module docs](self): a lower-case fragment of the
/// method label, first match wins; no match is Clear by Overwrite.
const METHOD_TABLE: &[(&str, MethodType, MethodUsed)] = &[
    ("crypto", MethodType::Purge, MethodUsed::CryptoErase),
    ("block erase", MethodType::Purge, MethodUsed::BlockErase),
    (
        "sanitize overwrite",
        MethodType::Purge,
        MethodUsed::Overwrite,
    ),
    ("sanitize", MethodType::Purge, MethodUsed::Other),
    ("secure erase", MethodType::Purge, MethodUsed::Other),
];

/// Lower case, trimmed, runs of white space as one space (nwipe's "Verify Ones  (0xFF)").
fn normalise_label(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The NIST method type and method used for an nwipe method label (the table in the
/// [module docs](self)).
pub fn nist_method(method_label: &str) -> (MethodType, MethodUsed) {
    let label = normalise_label(method_label);
    METHOD_TABLE
        .iter()
        .find(|(fragment, _, _)| label.contains(fragment))
        .map_or((MethodType::Clear, MethodUsed::Overwrite), |&(_, t, u)| {
            (t, u)
        })
}

/// The NIST verification for an nwipe verify label: `Verify Last Pass` and `Verify All
/// Passes` (or the command line's `last` and `all`) are [`VerificationMethod::Full`]; `Off` and
/// anything else are `None`.
pub fn nist_verification(verify_label: &str) -> Option<VerificationMethod> {
    match normalise_label(verify_label).as_str() {
        "verify last pass" | "verify all passes" | "last" | "all" => Some(VerificationMethod::Full),
        _ => None,
    }
}

/// Whether an nwipe method label is one of the read-only methods (`Verify Zeros (0x00)`,
/// `Verify Ones  (0xFF)`), which write nothing and check an earlier overwrite.
pub fn is_verify_only_method(method_label: &str) -> bool {
    normalise_label(method_label).starts_with("verify ")
}

impl NwipeReport {
    /// The NIST method type of [`Self::method`].
    pub fn nist_method_type(&self) -> MethodType {
        nist_method(&self.method).0
    }

    /// The NIST method used of [`Self::method`].
    pub fn nist_method_used(&self) -> MethodUsed {
        nist_method(&self.method).1
    }

    /// Whether the method only read the drive back ([`is_verify_only_method`]).
    pub fn is_verify_only(&self) -> bool {
        is_verify_only_method(&self.method)
    }

    /// The NIST verification: [`nist_verification`] of [`Self::verify`], and always
    /// [`VerificationMethod::Full`] for a verify-only method.
    pub fn nist_verification(&self) -> Option<VerificationMethod> {
        if self.is_verify_only() {
            Some(VerificationMethod::Full)
        } else {
            nist_verification(&self.verify)
        }
    }

    /// The method in words for a sanitization record, e.g. `nwipe 0.38, DoD Short, 3 rounds,
    /// verify last pass, PRNG Xoroshiro256` (no PRNG part when nwipe wrote none).
    pub fn method_details(&self) -> String {
        let mut parts = Vec::new();
        parts.push(if self.software_version.trim().is_empty() {
            "nwipe".to_owned()
        } else {
            format!("nwipe {}", self.software_version.trim())
        });
        parts.push(self.method.split_whitespace().collect::<Vec<_>>().join(" "));
        let n = self.rounds_requested;
        parts.push(format!("{n} round{}", if n == 1 { "" } else { "s" }));
        let verify = normalise_label(&self.verify);
        parts.push(match verify.as_str() {
            "" | "off" | "verification off" | "none" => "no verification".to_owned(),
            "last" => "verify last pass".to_owned(),
            "all" => "verify all passes".to_owned(),
            _ => verify,
        });
        if !self.prng.trim().is_empty() {
            parts.push(format!("PRNG {}", self.prng.trim()));
        }
        parts.join(", ")
    }
}

// ---------------------------------------------------------------------------------------------
// File names and pairing

/// The last component of a path, `/` or `\` separated.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

/// The base name without a `.pdf` or `.json` extension (any case), or `None`.
fn report_stem(name: &str) -> Option<&str> {
    let base = base_name(name);
    let dot = base.rfind('.')?;
    let ext = &base[dot + 1..];
    (ext.eq_ignore_ascii_case("pdf") || ext.eq_ignore_ascii_case("json")).then(|| &base[..dot])
}

/// nwipe's time in its file names: `YYYY-MM-DD-HH-MM-SS` (or `_` between date and time), or
/// `unknown-time`.
fn is_report_time(t: &str) -> bool {
    if t == "unknown-time" {
        return true;
    }
    let b = t.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 | 13 | 16 => c == b'-',
            10 => c == b'-' || c == b'_',
            _ => c.is_ascii_digit(),
        })
}

fn is_file_name_text(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The serial in an nwipe PDF or JSON report's file name,
/// `nwipe_report_<time>_Model_<model>_Serial_<serial>[_device_<terse name>].pdf` (or `.json`),
/// in nwipe's sanitised form (every byte not an ASCII letter or digit is `_`), with the `_`
/// of padding trimmed. A path is accepted; only its last component is read. The serial is
/// what follows the last `_Serial_` before the optional `_device_` part. `None` for a name
/// not of that form, or with no serial (empty, or nwipe's `unknown_serial`).
pub fn serial_in_file_name(name: &str) -> Option<String> {
    let rest = report_stem(name)?.strip_prefix("nwipe_report_")?;
    let time_end = rest.find("_Model_")?;
    if !is_report_time(&rest[..time_end]) {
        return None;
    }
    let rest = &rest[time_end + "_Model_".len()..];
    let rest = match rest.rfind("_device_") {
        Some(at)
            if at + "_device_".len() < rest.len()
                && is_file_name_text(&rest[at + "_device_".len()..]) =>
        {
            &rest[..at]
        }
        _ => rest,
    };
    let at = rest.rfind("_Serial_")?;
    let serial = rest[at + "_Serial_".len()..].trim_matches('_');
    if serial.is_empty() || serial == UNKNOWN_SERIAL || !is_file_name_text(serial) {
        return None;
    }
    Some(serial.to_owned())
}

/// A serial as nwipe writes it into file names: every byte that is not an ASCII letter or
/// digit becomes `_` (so a non-ASCII character becomes one `_` per UTF-8 byte).
pub fn nwipe_file_form(serial: &str) -> String {
    serial
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a serial from a file name ([`serial_in_file_name`]) is the real `serial`: both are
/// put in nwipe's file form ([`nwipe_file_form`]; also per character rather than per byte),
/// leading and trailing `_` trimmed, and compared exactly. An empty serial matches nothing.
pub fn file_serial_matches(file_serial: &str, serial: &str) -> bool {
    let file = nwipe_file_form(file_serial);
    let file = file.trim_matches('_');
    if file.is_empty() {
        return false;
    }
    let by_byte = nwipe_file_form(serial);
    let by_char: String = serial
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    file == by_byte.trim_matches('_') || file == by_char.trim_matches('_')
}

/// A JSON report to pair: its file name (or path) and the serial read from it
/// ([`NwipeReport::serial`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonReportFile<'a> {
    /// The file name or path.
    pub name: &'a str,
    /// The serial in the report.
    pub serial: &'a str,
}

/// A PDF report and the JSON report it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPair<'a> {
    /// The PDF's name, as given.
    pub pdf: &'a str,
    /// The JSON's name, as given.
    pub json: &'a str,
}

/// Why a PDF report was not paired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfProblem<'a> {
    /// The name is not nwipe's, or holds no serial.
    #[error(
        "{pdf} is not named as nwipe names its reports \
         (nwipe_report_<time>_Model_<model>_Serial_<serial>.pdf) or holds no serial, so it \
         cannot be paired with a JSON report."
    )]
    NotAnNwipeName {
        /// The PDF's name.
        pdf: &'a str,
    },
    /// No JSON report has the PDF's serial.
    #[error(
        "No JSON report has the serial {file_serial} of {pdf}: add the JSON report nwipe wrote \
         with it."
    )]
    NoJson {
        /// The PDF's name.
        pdf: &'a str,
        /// The serial in its name.
        file_serial: String,
    },
    /// Several JSON reports have the PDF's serial, and none has the PDF's own name.
    #[error(
        "Several JSON reports ({}) have the serial {file_serial} of {pdf}: import them one at \
         a time.",
        jsons.join(", ")
    )]
    Ambiguous {
        /// The PDF's name.
        pdf: &'a str,
        /// The serial in its name.
        file_serial: String,
        /// The JSON reports that match.
        jsons: Vec<&'a str>,
    },
    /// The one JSON report with the PDF's serial matches other PDFs too, and none has its name.
    #[error(
        "{pdf} and other PDFs all have the serial of the one JSON report {json}: import them \
         one at a time."
    )]
    SharedJson {
        /// The PDF's name.
        pdf: &'a str,
        /// The JSON report they share.
        json: &'a str,
    },
}

/// What [`pair_reports`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pairing<'a> {
    /// The PDFs paired, in the order given.
    pub pairs: Vec<ReportPair<'a>>,
    /// The PDFs not paired, and why, in the order given.
    pub problems: Vec<PdfProblem<'a>>,
    /// The JSON reports no PDF was paired with (allowed: the PDF is optional), in the order
    /// given.
    pub unpaired_jsons: Vec<&'a str>,
}

/// Pairs each PDF report with the JSON report whose serial matches the serial in the PDF's
/// name ([`serial_in_file_name`], [`file_serial_matches`]). When several JSON reports match
/// (the same drive wiped twice), the one whose name is the PDF's with `.json` (nwipe names
/// both alike) is taken; failing that the PDF is [`PdfProblem::Ambiguous`]. A JSON report is
/// paired with one PDF at most, chosen the same way ([`PdfProblem::SharedJson`] otherwise).
pub fn pair_reports<'a>(jsons: &[JsonReportFile<'a>], pdfs: &[&'a str]) -> Pairing<'a> {
    let same_stem = |pdf: &str, json: &str| matches!((report_stem(pdf), report_stem(json)), (Some(a), Some(b)) if a == b);
    // Per PDF: the JSON index chosen, or the problem.
    let mut chosen: Vec<Result<usize, PdfProblem<'a>>> = Vec::with_capacity(pdfs.len());
    for &pdf in pdfs {
        let Some(file_serial) = serial_in_file_name(pdf) else {
            chosen.push(Err(PdfProblem::NotAnNwipeName { pdf }));
            continue;
        };
        let matching: Vec<usize> = (0..jsons.len())
            .filter(|&j| file_serial_matches(&file_serial, jsons[j].serial))
            .collect();
        let named: Vec<usize> = matching
            .iter()
            .copied()
            .filter(|&j| same_stem(pdf, jsons[j].name))
            .collect();
        chosen.push(match (matching.as_slice(), named.as_slice()) {
            ([], _) => Err(PdfProblem::NoJson { pdf, file_serial }),
            ([j], _) | (_, [j]) => Ok(*j),
            _ => Err(PdfProblem::Ambiguous {
                pdf,
                file_serial,
                jsons: matching.iter().map(|&j| jsons[j].name).collect(),
            }),
        });
    }

    // Per JSON: the PDFs that chose it.
    let mut claimants: Vec<Vec<usize>> = vec![Vec::new(); jsons.len()];
    for (p, choice) in chosen.iter().enumerate() {
        if let Ok(j) = choice {
            claimants[*j].push(p);
        }
    }

    let mut pairing = Pairing::default();
    let mut used = vec![false; jsons.len()];
    for (p, choice) in chosen.into_iter().enumerate() {
        let pdf = pdfs[p];
        match choice {
            Err(problem) => pairing.problems.push(problem),
            Ok(j) => {
                let claimants = &claimants[j];
                let named: Vec<usize> = claimants
                    .iter()
                    .copied()
                    .filter(|&q| same_stem(pdfs[q], jsons[j].name))
                    .collect();
                if claimants.len() == 1 || named == [p] {
                    used[j] = true;
                    pairing.pairs.push(ReportPair {
                        pdf,
                        json: jsons[j].name,
                    });
                } else if named.len() == 1 {
                    // Another PDF has the JSON's name: this one has no JSON of its own.
                    pairing.problems.push(PdfProblem::NoJson {
                        pdf,
                        file_serial: serial_in_file_name(pdf).unwrap_or_default(),
                    });
                } else {
                    pairing.problems.push(PdfProblem::SharedJson {
                        pdf,
                        json: jsons[j].name,
                    });
                }
            }
        }
    }
    pairing.unpaired_jsons = jsons
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(j, _)| j.name)
        .collect();
    pairing
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PASSED: &str = include_str!("../tests/data/nwipe/passed_dod_short.json");
    const FAILED: &str = include_str!("../tests/data/nwipe/failed_verify_errors.json");
    const CONTRADICTORY: &str = include_str!("../tests/data/nwipe/contradictory_pass_errors.json");
    const EMPTY_SERIAL: &str = include_str!("../tests/data/nwipe/empty_serial.json");
    const MISSING_WIPE: &str = include_str!("../tests/data/nwipe/missing_wipe.json");
    const WRONG_SCHEMA: &str = include_str!("../tests/data/nwipe/wrong_schema.json");
    const FINISH_BEFORE_START: &str = include_str!("../tests/data/nwipe/finish_before_start.json");
    const PADDED_SERIAL: &str = include_str!("../tests/data/nwipe/padded_serial.json");
    const UNICODE_MODEL: &str = include_str!("../tests/data/nwipe/unicode_model.json");
    const EARLY_DRAFT: &str = include_str!("../tests/data/nwipe/early_draft.json");

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid test time")
    }

    fn parse(text: &str) -> Result<NwipeReport, NwipeError> {
        parse_json_report(text.as_bytes())
    }

    /// The passed report with one piece of text replaced (which must be there).
    fn passed_with(from: &str, to: &str) -> String {
        assert!(
            PASSED.contains(from),
            "{from:?} is not in the passed report"
        );
        PASSED.replacen(from, to, 1)
    }

    fn missing(field: &str) -> NwipeError {
        NwipeError::Missing {
            field: field.into(),
        }
    }

    #[test]
    fn nwipe_passed_dod_short_report_reads_every_field() {
        let r = parse(PASSED).expect("passed report");
        assert_eq!(r.software_version, "0.38");
        assert_eq!(r.generated_at, Some(utc(2026, 11, 30, 13, 2, 11)));
        assert_eq!(r.device_name, "/dev/sda");
        assert_eq!(r.device_type, "ATA");
        assert_eq!(r.model, "Samsung SSD 860");
        assert_eq!(r.serial, "S3Z9NB0K123456A");
        // Written as 5.00107862016e+11 and as 500107862016.
        assert_eq!(r.size_bytes, Some(500_107_862_016));
        assert_eq!(r.real_size_bytes, Some(500_107_862_016));
        assert_eq!(r.method, "DoD Short");
        assert_eq!(r.prng, "Xoroshiro256");
        assert_eq!(r.verify, "Verify Last Pass");
        assert_eq!(r.rounds_requested, 3);
        assert_eq!(r.rounds_completed, 3);
        assert_eq!(r.started, utc(2026, 11, 30, 10, 58, 40));
        assert_eq!(r.finished, utc(2026, 11, 30, 13, 2, 11));
        assert_eq!(r.duration, TimeDelta::seconds(2 * 3600 + 3 * 60 + 31));
        assert_eq!(r.errors, NwipeErrorCounts::default());
        assert!(r.nwipe_successful);
        assert_eq!(r.status, "success");
        assert_eq!(r.status_text, "ERASED");
        assert_eq!(r.outcome, NwipeOutcome::Passed);
        assert!(r.failure_reasons.is_empty());
        assert_eq!(
            r.organisation,
            NwipeOrganisation {
                business_name: "Second Life Laptops CIC".into(),
                business_address: "Unit 4, Mill Lane, Leeds LS6 2AB".into(),
                contact_name: "Sam Okafor".into(),
                contact_phone: "0113 496 0000".into(),
                technician: "Priya Shah".into(),
            }
        );
        assert_eq!(
            r.customer,
            NwipeCustomer {
                name: "Hillside Primary School".into(),
                address: "1 School Road, Leeds LS7 4QQ".into(),
                contact_name: "Mrs J. Patel".into(),
                contact_phone: "0113 496 0123".into(),
            }
        );
        assert_eq!(r.system.serial_number, "PF2ABCDE");
        assert_eq!(r.system.baseboard_serial_number, "L1HF81234567");
        assert_eq!(r.system.user_defined_tag, "Batch 14");
        assert_eq!(r.nist_method_type(), MethodType::Clear);
        assert_eq!(r.nist_method_used(), MethodUsed::Overwrite);
        assert_eq!(r.nist_verification(), Some(VerificationMethod::Full));
        assert_eq!(
            r.method_details(),
            "nwipe 0.38, DoD Short, 3 rounds, verify last pass, PRNG Xoroshiro256"
        );
    }

    #[test]
    fn nwipe_failed_report_with_verify_errors_says_why() {
        let r = parse(FAILED).expect("failed report still parses");
        assert_eq!(r.serial, "WD-WMC2E0123456");
        assert_eq!(
            r.errors,
            NwipeErrorCounts {
                pass: 0,
                verify: 12,
                round: 0,
                fsyncdata: 0
            }
        );
        assert!(!r.nwipe_successful);
        assert_eq!(r.outcome, NwipeOutcome::Failed);
        assert_eq!(
            r.failure_reasons,
            [
                "nwipe recorded the wipe as not successful (wipe.successful is false).",
                "nwipe's wipe.status is \"failure\" (FAILED), not \"success\".",
                "nwipe counted 12 verification errors (wipe.errors.verify): what was read back \
                 did not match what was written.",
            ]
        );
        assert_eq!(r.nist_verification(), Some(VerificationMethod::Full));
        assert_eq!(
            r.method_details(),
            "nwipe 0.38, PRNG Stream, 1 round, verify all passes, PRNG Mersenne Twister"
        );
    }

    #[test]
    fn nwipe_contradictory_report_is_failed_and_says_so() {
        let r = parse(CONTRADICTORY).expect("contradictory report parses");
        assert!(r.nwipe_successful);
        assert_eq!(r.status, "success");
        assert_eq!(r.errors.pass, 3);
        assert_eq!(r.outcome, NwipeOutcome::Failed);
        assert_eq!(
            r.failure_reasons,
            [
                "nwipe counted 3 pass errors (wipe.errors.pass): part of the drive could not be \
                 written.",
                "The report contradicts itself: wipe.successful is true, yet it shows the faults \
                 above, so rehome counts the wipe as failed.",
            ]
        );
    }

    #[test]
    fn nwipe_fsync_error_or_bad_status_alone_fails_the_report() {
        let fsync = passed_with("\"fsyncdata\":\t0", "\"fsyncdata\":\t1");
        let r = parse(&fsync).expect("parses");
        assert_eq!(r.outcome, NwipeOutcome::Failed);
        assert_eq!(
            r.failure_reasons[0],
            "nwipe counted 1 fsync error (wipe.errors.fsyncdata): writes could not be flushed \
             to the drive."
        );
        assert_eq!(r.failure_reasons.len(), 2); // and the contradiction
        let status = passed_with("\"status\":\t\"success\"", "\"status\":\t\"failure\"");
        let r = parse(&status).expect("parses");
        assert_eq!(r.outcome, NwipeOutcome::Failed);
        assert_eq!(
            r.failure_reasons[0],
            "nwipe's wipe.status is \"failure\" (ERASED), not \"success\"."
        );
        // errors.round decides nothing, as in nwipe.
        let round = passed_with("\"round\":\t0", "\"round\":\t2");
        let r = parse(&round).expect("parses");
        assert_eq!(r.errors.round, 2);
        assert_eq!(r.outcome, NwipeOutcome::Passed);
    }

    #[test]
    fn nwipe_empty_or_blank_serial_is_refused() {
        assert_eq!(parse(EMPTY_SERIAL), Err(NwipeError::EmptySerial));
        let blank = passed_with("\"S3Z9NB0K123456A\"", "\"   \"");
        assert_eq!(parse(&blank), Err(NwipeError::EmptySerial));
        assert_eq!(
            NwipeError::EmptySerial.to_string(),
            "The report's device.serial_number is empty: nwipe could not read the drive's \
             serial; give the medium with --device."
        );
    }

    #[test]
    fn nwipe_missing_serial_number_names_the_key() {
        let text = passed_with("\"serial_number\"", "\"serial_no\"");
        let err = parse(&text).expect_err("no serial_number");
        assert_eq!(err, missing("device.serial_number"));
        assert_eq!(
            err.to_string(),
            "The report's device.serial_number is missing: nwipe could not read the drive's \
             serial; give the medium with --device."
        );
    }

    #[test]
    fn nwipe_missing_wipe_is_refused_naming_it() {
        let err = parse(MISSING_WIPE).expect_err("no wipe");
        assert_eq!(err, missing("wipe"));
        assert_eq!(
            err.to_string(),
            "The report's wipe is missing: the report holds no wipe result, so it cannot show \
             the drive was wiped."
        );
    }

    #[test]
    fn nwipe_missing_nested_keys_are_named_with_their_path() {
        let text = passed_with("\"verify\":\t0,", "");
        assert_eq!(parse(&text), Err(missing("wipe.errors.verify")));
        let text = passed_with("\"method\":\t\"DoD Short\",", "");
        let err = parse(&text).expect_err("no method");
        assert_eq!(err, missing("wipe.method"));
        assert_eq!(
            err.to_string(),
            "The report's wipe.method is missing: nwipe writes it in every report, so the file \
             was cut short or edited."
        );
        // Optional keys may be missing.
        let text = passed_with("\"prng\":\t\"Xoroshiro256\",", "");
        assert_eq!(parse(&text).expect("prng is optional").prng, "");
    }

    #[test]
    fn nwipe_wrong_types_are_refused_naming_the_key() {
        let text = passed_with("\"rounds_requested\":\t3", "\"rounds_requested\":\t\"3\"");
        let err = parse(&text).expect_err("rounds as text");
        assert_eq!(
            err,
            NwipeError::WrongType {
                field: "wipe.rounds_requested".into(),
                expected: "a whole number of 0 or more",
                found: "the text \"3\"".into(),
            }
        );
        assert_eq!(
            err.to_string(),
            "The report's wipe.rounds_requested is the text \"3\", not a whole number of 0 or \
             more."
        );
        let text = passed_with("\"successful\":\ttrue", "\"successful\":\t1");
        assert_eq!(
            parse(&text),
            Err(NwipeError::WrongType {
                field: "wipe.successful".into(),
                expected: "true or false",
                found: "1".into(),
            })
        );
        let text = passed_with("\"model\":\t\"Samsung SSD 860\"", "\"model\":\tnull");
        assert_eq!(
            parse(&text),
            Err(NwipeError::WrongType {
                field: "device.model".into(),
                expected: "text",
                found: "null".into(),
            })
        );
    }

    #[test]
    fn nwipe_numbers_whole_in_any_form_fractions_and_negatives_refused() {
        let size = "\"size_bytes\":\t5.00107862016e+11";
        for (text, bytes) in [
            ("500107862016", 500_107_862_016u64),
            ("500107862016.0", 500_107_862_016),
            ("5.00107862016E11", 500_107_862_016),
            ("9.007199254740991e15", 9_007_199_254_740_991),
            ("9007199254740993", 9_007_199_254_740_993),
            ("0", 0),
        ] {
            let r = parse(&passed_with(size, &format!("\"size_bytes\":\t{text}")))
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(r.size_bytes, Some(bytes), "{text}");
        }
        for (text, found) in [
            ("2.5", "2.5"),
            ("-1", "-1"),
            ("-5.00107862016e+11", "-500107862016.0"),
            ("1.8e19", "1.8e+19"),
            ("9.007199254740993e15", "9007199254740992.0"),
        ] {
            assert_eq!(
                parse(&passed_with(size, &format!("\"size_bytes\":\t{text}"))),
                Err(NwipeError::WrongType {
                    field: "device.size_bytes".into(),
                    expected: "a whole number of 0 or more",
                    found: found.into(),
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn nwipe_wrong_schema_or_type_is_not_an_nwipe_report() {
        let err = parse(WRONG_SCHEMA).expect_err("v2");
        assert_eq!(
            err.to_string(),
            "The file is not an nwipe erase report: its report_schema is \
             \"org.nwipe.report.v2\", and rehome reads \"org.nwipe.report.v1\"."
        );
        let text = passed_with("\"disk_erase_report\"", "\"pdf_settings\"");
        assert_eq!(
            parse(&text),
            Err(NwipeError::NotNwipeReport {
                reason: "its report_type is \"pdf_settings\", not \"disk_erase_report\"".into()
            })
        );
        let text = passed_with("\"report_schema\":\t\"org.nwipe.report.v1\",", "");
        assert_eq!(
            parse(&text),
            Err(NwipeError::NotNwipeReport {
                reason: "it has no report_schema (nwipe's say \"org.nwipe.report.v1\")".into()
            })
        );
        assert_eq!(
            parse("{\"name\": \"not a report\"}"),
            Err(NwipeError::NotNwipeReport {
                reason: "it has no report_schema (nwipe's say \"org.nwipe.report.v1\")".into()
            })
        );
        assert_eq!(
            parse("[1, 2]"),
            Err(NwipeError::NotNwipeReport {
                reason: "it is a list, not a JSON object".into()
            })
        );
    }

    #[test]
    fn nwipe_not_json_is_refused() {
        let err = parse_json_report(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").expect_err("a PDF");
        let NwipeError::NotJson { detail } = &err else {
            panic!("not NotJson: {err:?}");
        };
        assert!(detail.contains("line 1 column 1"), "{detail}");
        assert!(
            err.to_string().starts_with("The file is not JSON (")
                && err
                    .to_string()
                    .ends_with("): give the .json report nwipe wrote beside the PDF."),
            "{err}"
        );
        assert!(matches!(
            parse(&PASSED[..PASSED.len() / 2]),
            Err(NwipeError::NotJson { .. })
        ));
        assert!(matches!(parse(""), Err(NwipeError::NotJson { .. })));
    }

    #[test]
    fn nwipe_finish_before_start_is_refused() {
        let err = parse(FINISH_BEFORE_START).expect_err("end before start");
        assert_eq!(
            err,
            NwipeError::FinishBeforeStart {
                started: utc(2026, 12, 2, 7, 41, 50),
                finished: utc(2026, 12, 2, 7, 0, 5),
            }
        );
        assert_eq!(
            err.to_string(),
            "The report's wipe.end_time (2026-12-02 07:00:05 UTC) is before its wipe.start_time \
             (2026-12-02 07:41:50 UTC): the wiping machine's clock was changed during the wipe, \
             so the report's times cannot be trusted."
        );
    }

    #[test]
    fn nwipe_zero_or_far_future_times_are_refused() {
        let text = passed_with("\"start_time\":\t1796036320", "\"start_time\":\t0");
        let err = parse(&text).expect_err("start 0");
        assert_eq!(
            err.to_string(),
            "The report's wipe.start_time is 0, which is not a usable time: nwipe writes 0 when \
             it did not record the time."
        );
        let text = passed_with("\"end_time\":\t1796043731", "\"end_time\":\t1e15");
        assert_eq!(
            parse(&text),
            Err(NwipeError::Timestamp {
                field: "wipe.end_time".into(),
                value: 1_000_000_000_000_000,
                reason: "it is after the year 9999",
            })
        );
        // generated_at 0 is only "not known".
        let text = passed_with("\"generated_at\":\t1796043731", "\"generated_at\":\t0");
        assert_eq!(parse(&text).expect("parses").generated_at, None);
    }

    #[test]
    fn nwipe_padded_serial_is_trimmed() {
        let r = parse(PADDED_SERIAL).expect("padded serial");
        assert_eq!(r.serial, "WD-WCC4N1234567");
        assert_eq!(r.model, "WDC WD10EZEX-08WN4A0");
        assert_eq!(r.size_bytes, Some(1_000_204_886_016));
        assert_eq!(r.outcome, NwipeOutcome::Passed);
        assert_eq!(r.nist_verification(), None);
        assert_eq!(
            r.method_details(),
            "nwipe 0.38, Fill With Zeros, 1 round, no verification"
        );
    }

    #[test]
    fn nwipe_unicode_model_is_kept() {
        let r = parse(UNICODE_MODEL).expect("unicode model");
        assert_eq!(r.model, "Intenso SSD Ünïcödé 固态硬盘");
        assert_eq!(r.serial, "AA000000000000001234");
        assert_eq!(r.device_type, "NVME");
        assert_eq!(r.size_bytes, Some(256_060_514_304));
    }

    #[test]
    fn nwipe_report_over_one_mib_is_refused_and_one_mib_is_read() {
        let mut exactly = PASSED.as_bytes().to_vec();
        exactly.resize(MAX_REPORT_BYTES, b' ');
        assert_eq!(
            parse_json_report(&exactly).expect("1 MiB").serial,
            "S3Z9NB0K123456A"
        );
        exactly.push(b' ');
        let err = parse_json_report(&exactly).expect_err("over 1 MiB");
        assert_eq!(err, NwipeError::TooLarge { size: 1_048_577 });
        assert_eq!(
            err.to_string(),
            "The file is 1048577 bytes, over the 1 MiB an nwipe report may be (nwipe's are a \
             few KiB): it is not an nwipe JSON report."
        );
    }

    #[test]
    fn nwipe_byte_order_mark_is_skipped() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(PASSED.as_bytes());
        assert_eq!(
            parse_json_report(&bytes).expect("BOM").serial,
            "S3Z9NB0K123456A"
        );
    }

    #[test]
    fn nwipe_early_draft_is_refused_with_a_clear_message() {
        let err = parse(EARLY_DRAFT).expect_err("early draft");
        assert_eq!(err, NwipeError::EarlyDraft);
        assert!(
            err.to_string()
                .starts_with("The file is an early-draft nwipe report"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("does not record the wipe method or the verification"),
            "{err}"
        );
    }

    #[test]
    fn nwipe_method_table_maps_labels_to_nist() {
        use MethodType::{Clear, Purge};
        use MethodUsed::{BlockErase, CryptoErase, Other, Overwrite};
        for (label, expected) in [
            ("DoD Short", (Clear, Overwrite)),
            ("DoD 5220.22-M", (Clear, Overwrite)),
            ("Gutmann Wipe", (Clear, Overwrite)),
            ("PRNG Stream", (Clear, Overwrite)),
            ("Fill With Zeros", (Clear, Overwrite)),
            ("Fill With Ones", (Clear, Overwrite)),
            ("Quick Erase", (Clear, Overwrite)),
            ("RCMP TSSIT OPS-II", (Clear, Overwrite)),
            ("HMG IS5 Enhanced", (Clear, Overwrite)),
            ("Bruce Schneier 7-Pass", (Clear, Overwrite)),
            ("Schneier Wipe", (Clear, Overwrite)),
            ("BMB21-2019", (Clear, Overwrite)),
            ("Verify Zeros (0x00)", (Clear, Overwrite)),
            ("Verify Ones  (0xFF)", (Clear, Overwrite)),
            ("Unknown Method (FIXME)", (Clear, Overwrite)),
            ("Secure Erase", (Purge, Other)),
            ("Secure Erase (ATA/NVMe)", (Purge, Other)),
            ("Secure Erase + PRNG + Verify", (Purge, Other)),
            (
                "Sanitize Crypto Erase (ATA/SCSI/NVMe)",
                (Purge, CryptoErase),
            ),
            ("Sanitize Block Erase (ATA/SCSI/NVMe)", (Purge, BlockErase)),
            ("Sanitize Overwrite (ATA/SCSI/NVMe)", (Purge, Overwrite)),
            ("Sanitize", (Purge, Other)),
            ("Block Erase", (Purge, BlockErase)),
            ("Crypto Erase", (Purge, CryptoErase)),
            ("  sanitize   CRYPTO erase ", (Purge, CryptoErase)),
        ] {
            assert_eq!(nist_method(label), expected, "{label}");
        }
    }

    #[test]
    fn nwipe_verification_labels_map_to_nist() {
        for (label, expected) in [
            ("Off", None),
            ("Verification Off", None),
            ("", None),
            ("Verify Last Pass", Some(VerificationMethod::Full)),
            ("Verify All Passes", Some(VerificationMethod::Full)),
            ("verify  last pass", Some(VerificationMethod::Full)),
            ("last", Some(VerificationMethod::Full)),
            ("all", Some(VerificationMethod::Full)),
            ("Verify Sometimes", None),
        ] {
            assert_eq!(nist_verification(label), expected, "{label:?}");
        }
    }

    #[test]
    fn nwipe_verify_only_method_is_fully_verified_and_details_collapse_spaces() {
        let text = passed_with("\"DoD Short\"", "\"Verify Ones  (0xFF)\"")
            .replacen("\"Verify Last Pass\"", "\"Off\"", 1)
            .replacen("\"rounds_requested\":\t3", "\"rounds_requested\":\t1", 1);
        let r = parse(&text).expect("parses");
        assert!(r.is_verify_only());
        assert_eq!(r.nist_verification(), Some(VerificationMethod::Full));
        assert_eq!(r.nist_method_type(), MethodType::Clear);
        assert_eq!(
            r.method_details(),
            "nwipe 0.38, Verify Ones (0xFF), 1 round, no verification, PRNG Xoroshiro256"
        );
        assert!(!is_verify_only_method("DoD Short"));
        assert!(is_verify_only_method("Verify Zeros (0x00)"));
    }

    #[test]
    fn nwipe_secure_erase_report_is_purge() {
        let text = passed_with("\"DoD Short\"", "\"Sanitize Block Erase (ATA/SCSI/NVMe)\"")
            .replacen("\"version\":\t\"0.38\"", "\"version\":\t\"0.39\"", 1)
            .replacen("\"prng\":\t\"Xoroshiro256\"", "\"prng\":\t\"\"", 1)
            .replacen("\"rounds_requested\":\t3", "\"rounds_requested\":\t1", 1);
        let r = parse(&text).expect("parses");
        assert_eq!(r.nist_method_type(), MethodType::Purge);
        assert_eq!(r.nist_method_used(), MethodUsed::BlockErase);
        assert_eq!(
            r.method_details(),
            "nwipe 0.39, Sanitize Block Erase (ATA/SCSI/NVMe), 1 round, verify last pass"
        );
    }

    // ---- file names

    #[test]
    fn nwipe_serial_in_pdf_name_without_device_part() {
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A.pdf"
            ),
            Some("S3Z9NB0K123456A".into())
        );
    }

    #[test]
    fn nwipe_serial_in_name_with_device_part_pdf_and_json() {
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A\
                 _device_sda.pdf"
            ),
            Some("S3Z9NB0K123456A".into())
        );
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-11-30_14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A\
                 _device_sda.json"
            ),
            Some("S3Z9NB0K123456A".into())
        );
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-12-02-08-41-50_Model_Intenso_SSD_Serial_AA0001\
                 _device_nvme0n1.PDF"
            ),
            Some("AA0001".into())
        );
        // nwipe's placeholder when it knows no device name.
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-12-02-08-41-50_Model_X_Serial_AA0001_device_unknown_device.json"
            ),
            Some("AA0001".into())
        );
    }

    #[test]
    fn nwipe_serial_with_punctuation_is_sanitised_and_matches() {
        let name = "nwipe_report_2026-12-02-08-41-50_Model_WDC_WD10EZEX_08WN4A0\
                    _Serial___WD_WCC4N1234567___device_sde.pdf";
        let file_serial = serial_in_file_name(name).expect("a serial");
        assert_eq!(file_serial, "WD_WCC4N1234567");
        assert!(file_serial_matches(&file_serial, "  WD-WCC4N1234567  "));
        assert!(file_serial_matches(&file_serial, "WD-WCC4N1234567"));
        assert!(file_serial_matches("S3Z9_NB0K_12", "S3Z9 NB0K-12"));
        assert!(!file_serial_matches("S3Z9_NB0K_12", "S3Z9NB0K12"));
        assert!(!file_serial_matches("S3Z9_NB0K_12", "S3Z9 NB0K-13"));
        assert!(!file_serial_matches("", ""));
        assert!(!file_serial_matches("___", "   "));
        // A non-ASCII character: one `_` per UTF-8 byte, as nwipe's C loop does, or per char.
        assert_eq!(nwipe_file_form("AB\u{e9}1"), "AB__1");
        assert!(file_serial_matches("AB__1", "AB\u{e9}1"));
        assert!(file_serial_matches("AB_1", "AB\u{e9}1"));
    }

    #[test]
    fn nwipe_model_with_underscores_or_serial_text_takes_the_last_serial() {
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-12-02-08-41-50_Model_WDC_WD10EZEX_08WN4A0_Serial_WCC4N1234567\
                 _device_sdb.pdf"
            ),
            Some("WCC4N1234567".into())
        );
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-12-02-08-41-50_Model_Odd_Serial_Model_Serial_ZX81.pdf"
            ),
            Some("ZX81".into())
        );
        // A serial that sanitised to contain `_device_` (with a device part after it).
        assert_eq!(
            serial_in_file_name(
                "nwipe_report_2026-12-02-08-41-50_Model_M_Serial_A_device_B_device_sda.pdf"
            ),
            Some("A_device_B".into())
        );
        // No model.
        assert_eq!(
            serial_in_file_name("nwipe_report_2026-12-02-08-41-50_Model__Serial_ZX81.pdf"),
            Some("ZX81".into())
        );
    }

    #[test]
    fn nwipe_name_with_path_prefix_uses_the_last_component() {
        assert_eq!(
            serial_in_file_name(
                "/media/usb/reports/nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860\
                 _Serial_S3Z9NB0K123456A_device_sda.pdf"
            ),
            Some("S3Z9NB0K123456A".into())
        );
        assert_eq!(
            serial_in_file_name(
                r"E:\reports\nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A.pdf"
            ),
            Some("S3Z9NB0K123456A".into())
        );
        // The directory's name is not read.
        assert_eq!(
            serial_in_file_name("nwipe_report_2026-11-30-14-02-11_Model_A_Serial_B.pdf/notes.pdf"),
            None
        );
    }

    #[test]
    fn nwipe_other_names_have_no_serial() {
        for name in [
            "",
            "report.pdf",
            "scan_0001.pdf",
            "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A.txt",
            "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A",
            "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860.pdf",
            "nwipe_report_2026-11-30_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A.pdf",
            "nwipe_report_S3Z9NB0K123456A_2026-11-30_14-02-11.json",
            "nwipe_report_2026-11-30-14-02-11_Model_X_Serial_.pdf",
            "nwipe_report_2026-11-30-14-02-11_Model_X_Serial___device_sda.pdf",
            "nwipe_report_2026-11-30-14-02-11_Model_X_Serial_unknown_serial_device_sda.json",
            "nwipe_report_2026-11-30-14-02-11_Model_X_Serial_S3Z9 (1).pdf",
            "NWIPE_REPORT_2026-11-30-14-02-11_Model_X_Serial_S3Z9.pdf",
        ] {
            assert_eq!(serial_in_file_name(name), None, "{name:?}");
        }
    }

    // ---- pairing

    const PDF_A: &str = "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A_device_sda.pdf";
    const JSON_A: &str = "nwipe_report_2026-11-30-14-02-11_Model_Samsung_SSD_860_Serial_S3Z9NB0K123456A_device_sda.json";
    const PDF_B: &str = "nwipe_report_2026-12-02-08-41-50_Model_WDC_WD10EZEX_08WN4A0_Serial___WD_WCC4N1234567__.pdf";
    const JSON_B: &str = "reports/drive-b.json";

    #[test]
    fn nwipe_two_json_and_two_pdf_pair_by_serial() {
        let jsons = [
            JsonReportFile {
                name: JSON_B,
                serial: "WD-WCC4N1234567",
            },
            JsonReportFile {
                name: JSON_A,
                serial: "S3Z9NB0K123456A",
            },
        ];
        let pairing = pair_reports(&jsons, &[PDF_A, PDF_B]);
        assert_eq!(
            pairing,
            Pairing {
                pairs: vec![
                    ReportPair {
                        pdf: PDF_A,
                        json: JSON_A
                    },
                    ReportPair {
                        pdf: PDF_B,
                        json: JSON_B
                    },
                ],
                problems: vec![],
                unpaired_jsons: vec![],
            }
        );
    }

    #[test]
    fn nwipe_pdf_without_json_and_json_without_pdf() {
        let jsons = [JsonReportFile {
            name: JSON_A,
            serial: "S3Z9NB0K123456A",
        }];
        let pairing = pair_reports(&jsons, &[PDF_B, "photo.pdf"]);
        assert_eq!(pairing.pairs, []);
        assert_eq!(
            pairing.problems,
            [
                PdfProblem::NoJson {
                    pdf: PDF_B,
                    file_serial: "WD_WCC4N1234567".into()
                },
                PdfProblem::NotAnNwipeName { pdf: "photo.pdf" },
            ]
        );
        assert_eq!(pairing.unpaired_jsons, [JSON_A]);
        assert_eq!(
            pairing.problems[0].to_string(),
            format!(
                "No JSON report has the serial WD_WCC4N1234567 of {PDF_B}: add the JSON report \
                 nwipe wrote with it."
            )
        );
    }

    #[test]
    fn nwipe_two_json_serials_sanitising_alike_are_ambiguous() {
        let jsons = [
            JsonReportFile {
                name: "a.json",
                serial: "S3Z9 NB0K-12",
            },
            JsonReportFile {
                name: "b.json",
                serial: "S3Z9-NB0K 12",
            },
        ];
        let pdf = "nwipe_report_2026-11-30-14-02-11_Model_X_Serial_S3Z9_NB0K_12.pdf";
        let pairing = pair_reports(&jsons, &[pdf]);
        assert_eq!(pairing.pairs, []);
        assert_eq!(
            pairing.problems,
            [PdfProblem::Ambiguous {
                pdf,
                file_serial: "S3Z9_NB0K_12".into(),
                jsons: vec!["a.json", "b.json"],
            }]
        );
        assert_eq!(pairing.unpaired_jsons, ["a.json", "b.json"]);
        assert_eq!(
            pairing.problems[0].to_string(),
            format!(
                "Several JSON reports (a.json, b.json) have the serial S3Z9_NB0K_12 of {pdf}: \
                 import them one at a time."
            )
        );
    }

    #[test]
    fn nwipe_drive_wiped_twice_pairs_by_the_shared_name() {
        let first_pdf = "nwipe_report_2026-11-30-10-00-00_Model_X_Serial_S1_device_sda.pdf";
        let first_json = "in/nwipe_report_2026-11-30-10-00-00_Model_X_Serial_S1_device_sda.json";
        let second_pdf = "nwipe_report_2026-11-30-14-00-00_Model_X_Serial_S1_device_sda.pdf";
        let second_json = "in/nwipe_report_2026-11-30-14-00-00_Model_X_Serial_S1_device_sda.json";
        let jsons = [
            JsonReportFile {
                name: second_json,
                serial: "S1",
            },
            JsonReportFile {
                name: first_json,
                serial: "S1",
            },
        ];
        let pairing = pair_reports(&jsons, &[first_pdf, second_pdf]);
        assert_eq!(
            pairing.pairs,
            [
                ReportPair {
                    pdf: first_pdf,
                    json: first_json
                },
                ReportPair {
                    pdf: second_pdf,
                    json: second_json
                },
            ]
        );
        assert_eq!(pairing.problems, []);
        assert_eq!(pairing.unpaired_jsons, Vec::<&str>::new());

        // Only the second wipe's JSON: it goes to its own PDF, the first PDF has none.
        let pairing = pair_reports(&jsons[..1], &[first_pdf, second_pdf]);
        assert_eq!(
            pairing.pairs,
            [ReportPair {
                pdf: second_pdf,
                json: second_json
            }]
        );
        assert_eq!(
            pairing.problems,
            [PdfProblem::NoJson {
                pdf: first_pdf,
                file_serial: "S1".into()
            }]
        );

        // A renamed JSON shared by two PDFs: neither is chosen.
        let renamed = [JsonReportFile {
            name: "drive.json",
            serial: "S1",
        }];
        let pairing = pair_reports(&renamed, &[first_pdf, second_pdf]);
        assert_eq!(pairing.pairs, []);
        assert_eq!(
            pairing.problems,
            [
                PdfProblem::SharedJson {
                    pdf: first_pdf,
                    json: "drive.json"
                },
                PdfProblem::SharedJson {
                    pdf: second_pdf,
                    json: "drive.json"
                },
            ]
        );
        assert_eq!(pairing.unpaired_jsons, ["drive.json"]);
    }
}
