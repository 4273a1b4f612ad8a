//! A WAV file as a crash may leave it, through `recording::repair::repair` (what `serve`
//! runs on cut calls at start). A repaired file must be consistent: repairing it again
//! changes nothing, and its RIFF size matches its length.
#![no_main]

use std::fs;

use hotline::recording::repair::{RepairOutcome, repair};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = hotline_fuzz::scratch().join("cut.wav");
    fs::write(&path, data).expect("write wav");
    match repair(&path) {
        Ok(RepairOutcome::Repaired { .. }) => {
            let fixed = fs::read(&path).expect("read repaired");
            let riff = u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
            assert_eq!(u64::from(riff) + 8, fixed.len() as u64, "riff size");
            assert!(fixed.len() <= data.len(), "repair only cuts");
            assert_eq!(
                repair(&path).ok(),
                Some(RepairOutcome::Ok),
                "repair is idempotent"
            );
        }
        Ok(RepairOutcome::Ok) => {
            assert_eq!(
                fs::read(&path).expect("read").as_slice(),
                data,
                "left alone"
            );
        }
        Err(_) => {}
    }
});
