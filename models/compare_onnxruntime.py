"""Checks hotline's Silero VAD run (tract, pure Rust) against onnxruntime, once.

    pip install onnxruntime onnx numpy
    python3 models/compare_onnxruntime.py models/silero_vad.onnx FILE.wav > ort.txt
    # and compare with the scores of `cargo test --lib listen::tests` style runs.

It also prints which branch each ONNX `If` node takes at 8 kHz (the table BRANCHES in
src/listen/silero.rs): each condition is exposed as a graph output and evaluated.
"""
import copy, sys, wave
import numpy as np, onnx, onnxruntime as ort
from onnx import helper

path, wav = sys.argv[1], sys.argv[2]
m = onnx.load(path)
feeds = {'input': np.random.randn(1, 288).astype(np.float32) * 0.1,
         'state': np.zeros((2, 1, 128), np.float32), 'sr': np.array(8000, dtype=np.int64)}
while True:
    ifs = [n for n in m.graph.node if n.op_type == 'If']
    if not ifs:
        break
    n = ifs[0]
    probe = copy.deepcopy(m)
    probe.graph.output.append(helper.make_tensor_value_info(n.input[0], onnx.TensorProto.BOOL, None))
    cond = bool(ort.InferenceSession(probe.SerializeToString()).run([n.input[0]], feeds)[0])
    print('branch', 'then' if cond else 'else', n.name, file=sys.stderr)
    g = [a.g for a in n.attribute if a.name == ('then_branch' if cond else 'else_branch')][0]
    nodes = list(m.graph.node)
    i = nodes.index(n)
    nodes[i:i + 1] = list(g.node) + [helper.make_node('Identity', [o.name], [t])
                                     for o, t in zip(g.output, n.output)]
    del m.graph.node[:]
    m.graph.node.extend(nodes)

# Scores of the original file, chunk by chunk, with the 32-sample context and the state.
s = ort.InferenceSession(path)
w = wave.open(wav)
assert w.getframerate() == 8000 and w.getnchannels() == 1
x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(np.float32) / 32768.0
ctx, state = np.zeros((1, 32), np.float32), np.zeros((2, 1, 128), np.float32)
for i in range(0, len(x) // 256 * 256, 256):
    inp = np.concatenate([ctx, x[None, i:i + 256]], axis=1)
    p, state = s.run(None, {'input': inp, 'state': state, 'sr': np.array(8000, dtype=np.int64)})
    ctx = inp[:, -32:]
    print('%.6f' % p[0, 0])
