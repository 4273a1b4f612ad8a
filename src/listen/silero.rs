//! Silero VAD v6 (MIT, models/silero_vad.onnx from the PyPI wheel `silero-vad` 6.2.3), run in
//! process by tract (pure Rust). At 8 kHz the model takes 256 new samples with the previous
//! 32 prepended (its context) and carries a [2, 1, 128] state from chunk to chunk; feeding
//! chunks without the context drops recall on real prompts from 0.96 to 0.14.
//!
//! The exported graph branches with ONNX `If` nodes on the sample rate and on tensor shapes
//! (PyTorch's export of `squeeze` and of the LSTM's optional state). tract cannot type an
//! `If` whose branches differ in shape, so at load each `If` is replaced by the branch it
//! takes for 8 kHz, batch 1, a given state: the table in [`BRANCHES`], found by running the
//! file in onnxruntime with each condition exposed as an output (models/README.md). The
//! result matches onnxruntime on the original file within 1e-6 on real prompts and music.

use super::vad::{CHUNK, Vad, VadError};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// The model file, compiled in (2.3 MB) so a deployment cannot lose it.
const MODEL: &[u8] = include_bytes!("../../models/silero_vad.onnx");
/// sha256 of silero_vad/data/silero_vad.onnx in silero_vad-6.2.3-py3-none-any.whl.
pub const MODEL_SHA256: &str = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3";
/// Samples of context prepended at 8 kHz (64 at 16 kHz).
const CONTEXT: usize = 32;
const SAMPLE_RATE: i64 = 8000;

type Plan = Arc<TypedRunnableModel>;

/// Each `If` node of the pinned file and whether its `then` branch is the one taken at
/// 8 kHz, batch 1, with a state input.
const BRANCHES: [(&str, bool); 7] = [
    ("If_0", false),                                     // sr == 16000
    ("If_0_else_branch__Inline_0__/decoder/If", true),   // squeeze a time axis of 1
    ("If_0_else_branch__Inline_0__/decoder/If_1", true), // a state was given
    ("If_0_else_branch__Inline_0__/decoder/rnn/If", false),
    ("If_0_else_branch__Inline_0__/decoder/rnn/If_1", false),
    ("If_0_else_branch__Inline_0__/decoder/rnn/If_4", false),
    ("If_0_else_branch__Inline_0__/If", true), // squeeze the output's axis of 1
];

/// Replaces every `If` in `graph` by its branch for our case, recursively (branches hold
/// more `If`s); branch outputs are renamed to the `If`'s outputs by `Identity` nodes.
fn inline_branches(graph: &mut pb::GraphProto) -> Result<(), VadError> {
    let mut nodes = Vec::with_capacity(graph.node.len());
    for node in std::mem::take(&mut graph.node) {
        if node.op_type != "If" {
            nodes.push(node);
            continue;
        }
        let then = BRANCHES
            .iter()
            .find(|(name, _)| *name == node.name)
            .map(|&(_, t)| t)
            .ok_or_else(|| VadError::Model(format!("unexpected If node {}", node.name)))?;
        let want = if then { "then_branch" } else { "else_branch" };
        let mut branch = node
            .attribute
            .iter()
            .find(|a| a.name == want)
            .and_then(|a| a.g.clone())
            .ok_or_else(|| VadError::Model(format!("{} has no {want}", node.name)))?;
        inline_branches(&mut branch)?;
        nodes.append(&mut branch.node);
        graph.initializer.append(&mut branch.initializer);
        for (i, (from, to)) in branch.output.iter().zip(&node.output).enumerate() {
            nodes.push(pb::NodeProto {
                name: format!("{}/out{i}", node.name),
                op_type: "Identity".into(),
                input: vec![from.name.clone()],
                output: vec![to.clone()],
                ..Default::default()
            });
        }
    }
    graph.node = nodes;
    Ok(())
}

/// The optimized model, shared by every call (loading takes ~100 ms, once).
#[derive(Clone)]
pub struct SileroModel(Plan);

impl SileroModel {
    /// Loads the compiled-in model once per process, checking its sha256.
    pub fn shared() -> Result<SileroModel, String> {
        static M: OnceLock<Result<SileroModel, String>> = OnceLock::new();
        M.get_or_init(|| Self::load(MODEL).map_err(|e| e.to_string()))
            .clone()
    }

    /// Loads an 8 kHz-specialised plan from ONNX bytes whose sha256 must be the pinned one.
    pub fn load(bytes: &[u8]) -> Result<SileroModel, VadError> {
        let found = hex::encode(Sha256::digest(bytes));
        if found != MODEL_SHA256 {
            return Err(VadError::ModelChanged {
                found,
                expected: MODEL_SHA256.into(),
            });
        }
        let m = |e: TractError| VadError::Model(e.to_string());
        let onnx = tract_onnx::onnx();
        let mut proto = onnx.proto_model_for_read(&mut &bytes[..]).map_err(m)?;
        let graph = proto
            .graph
            .as_mut()
            .ok_or_else(|| VadError::Model("no graph".into()))?;
        inline_branches(graph)?;
        let mut model = onnx.model_for_proto_model(&proto).map_err(m)?;
        model
            .set_input_fact(0, f32::fact([1, CHUNK + CONTEXT]).into())
            .map_err(m)?;
        model
            .set_input_fact(1, f32::fact([2, 1, 128]).into())
            .map_err(m)?;
        model
            .set_input_fact(2, InferenceFact::from(tensor0(SAMPLE_RATE)))
            .map_err(m)?;
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(m)?;
        Ok(SileroModel(plan))
    }

    /// A fresh stream (context and state zero).
    pub fn stream(&self) -> Silero {
        Silero {
            plan: self.0.clone(),
            context: [0.0; CONTEXT],
            state: Tensor::zero::<f32>(&[2, 1, 128]).expect("static shape"),
            input: vec![0.0; CONTEXT + CHUNK],
            kept: None,
        }
    }
}

/// One stream's memory: the last 32 samples and the recurrent state.
pub struct Silero {
    plan: Plan,
    context: [f32; CONTEXT],
    state: Tensor,
    input: Vec<f32>,
    /// Context and state saved by `keep`.
    kept: Option<([f32; CONTEXT], Tensor)>,
}

impl Vad for Silero {
    fn score(&mut self, chunk: &[f32; CHUNK]) -> Result<f32, VadError> {
        let m = |e: TractError| VadError::Model(e.to_string());
        self.input[..CONTEXT].copy_from_slice(&self.context);
        self.input[CONTEXT..].copy_from_slice(chunk);
        self.context.copy_from_slice(&chunk[CHUNK - CONTEXT..]);
        let x = Tensor::from_shape(&[1, CONTEXT + CHUNK], &self.input).map_err(m)?;
        let out = self
            .plan
            .run(tvec!(
                x.into_tvalue(),
                self.state.clone().into_tvalue(),
                tensor0(SAMPLE_RATE).into_tvalue()
            ))
            .map_err(m)?;
        let p = *out[0]
            .to_plain_array_view::<f32>()
            .map_err(m)?
            .iter()
            .next()
            .ok_or_else(|| VadError::Model("empty output".into()))?;
        self.state = out[1].clone().into_tensor();
        Ok(p)
    }

    fn skip(&mut self, chunk: &[f32; CHUNK]) {
        self.context.copy_from_slice(&chunk[CHUNK - CONTEXT..]);
    }

    fn reset(&mut self) {
        self.context = [0.0; CONTEXT];
        self.state = Tensor::zero::<f32>(&[2, 1, 128]).expect("static shape");
    }

    fn keep(&mut self) {
        self.kept = Some((self.context, self.state.clone()));
    }

    fn rewind(&mut self) {
        if let Some((context, state)) = self.kept.take() {
            self.context = context;
            self.state = state;
        }
    }
}
