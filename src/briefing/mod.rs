//! The briefing engine: an incident turned into text a support engineer can act on
//! (English or Mandarin), and into 8 kHz speech ready before the vendor answers.

pub mod normalize;
