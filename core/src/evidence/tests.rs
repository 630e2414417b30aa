//! The evidence rule against a table written by hand: each row is a device's evidence in a
//! few words and what the rule must answer for a move to `wiped` and to `ready`.

use chrono::{TimeZone, Utc};

use super::*;

const ALICE: UserId = UserId(1);
const BOB: UserId = UserId(2);
const CAROL: UserId = UserId(3);

fn device() -> DeviceId {
    DeviceId(uuid::Uuid::from_u128(7))
}

fn at(minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, minute, 0)
        .single()
        .unwrap_or_default()
}

fn medium(id: i64, serial: &str) -> Medium {
    Medium {
        id: MediumId(id),
        device: device(),
        kind: MediumKind::Ssd,
        make: String::new(),
        model: String::new(),
        serial: serial.into(),
        capacity_bytes: None,
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

/// A record: id, medium, method type, outcome, finishing minute, performer, superseded id.
fn rec(
    id: i64,
    medium: i64,
    method_type: MethodType,
    outcome: Outcome,
    minute: u32,
    by: UserId,
    supersedes: Option<i64>,
) -> Sanitization {
    Sanitization {
        id: SanitizationId(id),
        device: device(),
        medium: MediumId(medium),
        method_type,
        method_used: MethodUsed::Overwrite,
        method_details: String::new(),
        tool: "nwipe".into(),
        tool_version: "0.38".into(),
        verification_method: VerificationMethod::Full,
        outcome,
        started_at: at(0),
        finished_at: at(minute),
        performed_by: by,
        data_classification: String::new(),
        post_classification: String::new(),
        destination: MediaDestination::ExternalReuse,
        notes: String::new(),
        supersedes: supersedes.map(SanitizationId),
        report: None,
        recorded_by: Some(by),
        recorded_at: at(minute),
    }
}

fn verif(id: i64, by: UserId, minute: u32, outcome: Outcome, records: &[i64]) -> Verification {
    Verification {
        id: VerificationId(id),
        device: device(),
        verified_by: by,
        verified_at: at(minute),
        outcome,
        records: records.iter().copied().map(SanitizationId).collect(),
        notes: String::new(),
    }
}

fn lock(kind: LockKind, state: LockState) -> LockCheck {
    LockCheck {
        kind,
        state,
        checked_by: ALICE,
        checked_at: at(1),
    }
}

fn all_locks() -> Vec<LockCheck> {
    vec![
        lock(LockKind::AppleFindMy, LockState::NonePresent),
        lock(LockKind::GoogleFrp, LockState::Removed),
        lock(LockKind::Mdm, LockState::NonePresent),
    ]
}

use MethodType::{Clear, Destruct, Purge};
use Outcome::{Failed, Passed};

struct Case {
    name: &'static str,
    no_media: bool,
    media: Vec<Medium>,
    records: Vec<Sanitization>,
    verifications: Vec<Verification>,
    locks: Vec<LockCheck>,
    sample: Sample,
    /// The answer for a move to `wiped` ("ok" or the reason, shortened as [`short`] does).
    wiped: &'static str,
    /// The answer for a move to `ready`.
    ready: &'static str,
    /// Whether the sampling draw is due.
    due: bool,
}

fn short(b: Option<EvidenceBlocked>) -> String {
    match b {
        None => "ok".into(),
        Some(EvidenceBlocked::NoMedia) => "no media".into(),
        Some(EvidenceBlocked::NotSanitized(s)) => format!("not sanitized {}", s.join(" ")),
        Some(EvidenceBlocked::Failed(s)) => format!("failed {}", s.join(" ")),
        Some(EvidenceBlocked::VerificationNeeded) => "verify".into(),
        Some(EvidenceBlocked::VerificationFailed) => "verification failed".into(),
        Some(EvidenceBlocked::Locks(k)) => {
            let k: Vec<&str> = k.iter().map(|k| k.as_str()).collect();
            format!("locks {}", k.join(" "))
        }
    }
}

fn base(name: &'static str) -> Case {
    Case {
        name,
        no_media: false,
        media: vec![medium(1, "A")],
        records: vec![],
        verifications: vec![],
        locks: all_locks(),
        sample: Sample::NotPicked,
        wiped: "ok",
        ready: "ok",
        due: false,
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            media: vec![],
            wiped: "no media",
            ready: "no media",
            ..base("nothing recorded")
        },
        Case {
            media: vec![],
            no_media: true,
            ..base("declared without media")
        },
        Case {
            wiped: "not sanitized A",
            ready: "not sanitized A",
            ..base("a medium without a record")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            sample: Sample::Undecided,
            due: true,
            ..base("one passed clear, not drawn yet")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            ..base("one passed clear, not picked")
        },
        Case {
            records: vec![rec(1, 1, Clear, Failed, 5, ALICE, None)],
            sample: Sample::Undecided,
            wiped: "failed A",
            ready: "failed A",
            ..base("one failed record")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Failed, 5, ALICE, None),
                rec(2, 1, Clear, Passed, 9, ALICE, None),
            ],
            ..base("failed, then a later pass")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 1, Clear, Failed, 9, ALICE, None),
            ],
            wiped: "failed A",
            ready: "failed A",
            ..base("passed, then a later failure")
        },
        Case {
            // Recorded later, but finished earlier: the finish time decides.
            records: vec![
                rec(1, 1, Clear, Passed, 9, ALICE, None),
                rec(2, 1, Clear, Failed, 5, ALICE, None),
            ],
            ..base("a failure that finished before the pass")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Failed, 5, ALICE, None),
                rec(2, 1, Destruct, Passed, 9, ALICE, None),
            ],
            sample: Sample::Undecided,
            due: false,
            ..base("failed, then destroyed: never drawn")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Failed, 5, ALICE, None),
                rec(2, 1, Clear, Passed, 5, ALICE, Some(1)),
            ],
            ..base("a failure corrected to a pass")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 1, Clear, Failed, 5, ALICE, Some(1)),
            ],
            wiped: "failed A",
            ready: "failed A",
            ..base("a pass corrected to a failure")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B"), medium(3, "C")],
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 3, Purge, Failed, 6, ALICE, None),
            ],
            wiped: "not sanitized B",
            ready: "not sanitized B",
            ..base("three media: one passed, one missing, one failed")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B")],
            records: vec![
                rec(1, 1, Clear, Failed, 5, ALICE, None),
                rec(2, 2, Purge, Failed, 6, ALICE, None),
            ],
            wiped: "failed A B",
            ready: "failed A B",
            ..base("two failed media")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B")],
            records: vec![
                rec(1, 1, Destruct, Passed, 5, ALICE, None),
                rec(2, 2, Purge, Passed, 6, BOB, None),
            ],
            sample: Sample::Undecided,
            due: true,
            ..base("one destroyed, one purged: drawn")
        },
        Case {
            // The medium's records are what count, not other media's.
            media: vec![medium(1, "A")],
            records: vec![rec(1, 9, Clear, Passed, 5, ALICE, None)],
            wiped: "not sanitized A",
            ready: "not sanitized A",
            ..base("a record of another medium")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            sample: Sample::Picked,
            ready: "verify",
            ..base("picked, not verified")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            verifications: vec![verif(1, BOB, 10, Passed, &[1])],
            sample: Sample::Picked,
            ..base("picked and verified by another person")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            verifications: vec![verif(1, ALICE, 10, Passed, &[1])],
            sample: Sample::Picked,
            ready: "verify",
            ..base("picked and 'verified' by the performer")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            verifications: vec![verif(1, BOB, 10, Failed, &[1])],
            sample: Sample::Picked,
            ready: "verification failed",
            ..base("picked, verification failed")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            verifications: vec![verif(1, BOB, 10, Failed, &[1])],
            ready: "verification failed",
            ..base("not picked, but a verification failed")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            verifications: vec![
                verif(1, BOB, 10, Failed, &[1]),
                verif(2, CAROL, 12, Passed, &[1]),
            ],
            sample: Sample::Picked,
            ..base("a failed verification, then a passed one")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 1, Clear, Passed, 5, ALICE, Some(1)),
            ],
            verifications: vec![verif(1, BOB, 10, Passed, &[1])],
            sample: Sample::Picked,
            ready: "verify",
            ..base("verified, then corrected: stale")
        },
        Case {
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 1, Clear, Passed, 5, ALICE, Some(1)),
            ],
            verifications: vec![verif(1, BOB, 10, Failed, &[1])],
            ..base("a failed verification of a corrected record no longer counts")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B")],
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 2, Clear, Passed, 6, BOB, None),
            ],
            verifications: vec![verif(1, BOB, 10, Passed, &[1, 2])],
            sample: Sample::Picked,
            ready: "verify",
            ..base("verifier performed one of two records")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B")],
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 2, Clear, Passed, 6, BOB, None),
            ],
            verifications: vec![verif(1, CAROL, 10, Passed, &[2, 1])],
            sample: Sample::Picked,
            ..base("two media verified by a third person")
        },
        Case {
            media: vec![medium(1, "A"), medium(2, "B")],
            records: vec![
                rec(1, 1, Clear, Passed, 5, ALICE, None),
                rec(2, 2, Clear, Passed, 6, ALICE, None),
            ],
            verifications: vec![verif(1, CAROL, 10, Passed, &[1])],
            sample: Sample::Picked,
            ready: "verify",
            ..base("a verification of one medium of two")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            locks: vec![],
            ready: "locks apple_find_my google_frp mdm",
            ..base("no lock checked")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            locks: vec![lock(LockKind::GoogleFrp, LockState::NonePresent)],
            ready: "locks apple_find_my mdm",
            ..base("one lock checked")
        },
        Case {
            media: vec![],
            no_media: true,
            locks: vec![lock(LockKind::Mdm, LockState::Removed)],
            ready: "locks apple_find_my google_frp",
            ..base("no media still needs its locks checked")
        },
        Case {
            records: vec![rec(1, 1, Clear, Passed, 5, ALICE, None)],
            sample: Sample::Picked,
            locks: vec![],
            ready: "verify",
            ..base("picked and locked: the verification is named first")
        },
    ]
}

#[test]
fn the_rule_follows_the_table() {
    for c in cases() {
        let view = EvidenceView {
            no_media: c.no_media,
            media: &c.media,
            records: &c.records,
            verifications: &c.verifications,
            locks: &c.locks,
            sample: c.sample,
        };
        assert_eq!(
            short(evidence_blocked(DeviceStatus::Wiped, &view)),
            c.wiped,
            "{}: wiped",
            c.name
        );
        assert_eq!(
            short(evidence_blocked(DeviceStatus::Ready, &view)),
            c.ready,
            "{}: ready",
            c.name
        );
        assert_eq!(sample_due(&view), c.due, "{}: sampling due", c.name);
        // The rest of the statuses follow wiped's and ready's answers, and recycling and
        // staying received never need evidence.
        for (to, want) in [
            (DeviceStatus::Received, "ok"),
            (DeviceStatus::Refurbished, c.wiped),
            (DeviceStatus::Shipped, c.ready),
            (DeviceStatus::Delivered, c.ready),
            (DeviceStatus::Recycled, "ok"),
        ] {
            assert_eq!(short(evidence_blocked(to, &view)), want, "{}: {to}", c.name);
        }
    }
}

#[test]
fn reasons_read_as_sentences() {
    let table: [(EvidenceBlocked, &str); 7] = [
        (
            EvidenceBlocked::NoMedia,
            "No storage media recorded: add the device's media, or declare that it has none.",
        ),
        (
            EvidenceBlocked::NotSanitized(vec!["S1".into()]),
            "Medium S1 has no sanitization record.",
        ),
        (
            EvidenceBlocked::NotSanitized(vec!["S1".into(), "S2".into()]),
            "Media S1, S2 have no sanitization record.",
        ),
        (
            EvidenceBlocked::Failed(vec!["S1".into()]),
            "The sanitization of medium S1 failed: record a passed one, or its destruction.",
        ),
        (
            EvidenceBlocked::VerificationNeeded,
            "Picked for quality sampling: someone holding verifyWipes who did not perform the \
             sanitization must verify it first.",
        ),
        (
            EvidenceBlocked::VerificationFailed,
            "The verification of its sanitization failed: record the sanitization again, then \
             have it verified.",
        ),
        (
            EvidenceBlocked::Locks(vec![LockKind::AppleFindMy, LockKind::Mdm]),
            "Activation locks not confirmed removed or absent: Apple Find My / iCloud, MDM \
             enrolment.",
        ),
    ];
    for (reason, want) in table {
        assert_eq!(reason.to_string(), want);
    }
}

#[test]
fn the_sampling_draw_picks_below_the_share() {
    // 0.05 of 65536 is 3276.8: 3276 (0x0CCC) is picked, 3277 (0x0CCD) is not.
    let table = [
        (0.05, [0x00, 0x00], Sample::Picked),
        (0.05, [0x0C, 0xCC], Sample::Picked),
        (0.05, [0x0C, 0xCD], Sample::NotPicked),
        (0.05, [0xFF, 0xFF], Sample::NotPicked),
        (0.0, [0x00, 0x00], Sample::NotPicked),
        (1.0, [0xFF, 0xFF], Sample::Picked),
        (0.5, [0x7F, 0xFF], Sample::Picked),
        (0.5, [0x80, 0x00], Sample::NotPicked),
        (-3.0, [0x00, 0x00], Sample::NotPicked),
        (7.0, [0xFF, 0xFF], Sample::Picked),
    ];
    for (share, random, want) in table {
        assert_eq!(sample_draw(share, random), want, "{share} {random:?}");
    }
}

#[test]
fn imeis_are_checked_by_their_luhn_digit() {
    // 49015420323751 with check digit 8 is the worked example of the check digit in
    // Wikipedia's IMEI article; the others were worked by hand.
    let table: [(&str, Result<&str, ImeiError>); 10] = [
        ("490154203237518", Ok("490154203237518")),
        ("49-015420-323751-8", Ok("490154203237518")),
        ("49 015420 323751 8", Ok("490154203237518")),
        ("490154203237519", Err(ImeiError::CheckDigit)),
        ("490154203237517", Err(ImeiError::CheckDigit)),
        // 35209900176148 + 1: 3,5·2=10→1,2,0·2=0,9,9·2=18→9,0,0·2=0,1,7·2=14→5,6,1·2=2,4,8·2=16→7
        // sum 3+1+2+0+9+9+0+0+1+5+6+2+4+7 = 49, check digit 1.
        ("352099001761481", Ok("352099001761481")),
        ("000000000000000", Ok("000000000000000")),
        ("49015420323751", Err(ImeiError::Shape)),
        ("4901542032375188", Err(ImeiError::Shape)),
        ("49015420323751x", Err(ImeiError::Shape)),
    ];
    for (text, want) in table {
        assert_eq!(parse_imei(text), want.map(String::from), "{text:?}",);
    }
    assert_eq!(parse_imei("٤٩٠١٥٤٢٠٣٢٣٧٥١٨"), Err(ImeiError::Shape));
    assert_eq!(parse_imei(""), Err(ImeiError::Shape));
}

#[test]
fn names_round_trip_and_are_stable() {
    // The stored names, written out: changing one changes stored data.
    assert_eq!(
        MethodUsed::ALL
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        [
            "degauss",
            "overwrite",
            "block_erase",
            "crypto_erase",
            "other"
        ]
    );
    assert_eq!(
        MediumKind::ALL
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        ["hdd", "ssd", "nvme", "flash", "internal", "other"]
    );
    assert_eq!(
        MediaDestination::ALL
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        [
            "internal_reuse",
            "external_reuse",
            "recycling",
            "manufacturer",
            "other"
        ]
    );
    for m in MethodType::ALL {
        assert_eq!(m.as_str().parse::<MethodType>(), Ok(*m));
        assert_eq!(
            serde_json::to_value(m).ok(),
            Some(serde_json::Value::String(m.as_str().into()))
        );
    }
    assert_eq!("Clear".parse::<MethodType>(), Err(()));
}
