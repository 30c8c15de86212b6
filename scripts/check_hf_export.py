#!/usr/bin/python3
"""Checks a Hugging Face T5 directory written by `ankh export`, independently of ankh's C++ code.

Usage: scripts/check_hf_export.py DIR [--transformers] [--logits OUT_DIR]

Parses model.safetensors itself (numpy only, no torch/transformers/safetensors needed), validates
its header against the file size, and compares every tensor name and shape with what
transformers' T5ForConditionalGeneration (or T5EncoderModel, when the file holds no decoder)
expects for DIR/config.json; also checks that every value is finite and that the tokenizer files
agree with the config. Prints every problem found and exits 1 if there is any, 0 otherwise.

--transformers additionally loads DIR with Hugging Face transformers (needs torch and
transformers, e.g. on the GPU machine): the model class with no missing or unexpected keys,
AutoTokenizer, tokenization of a protein and one forward pass. For a model with its own output
layer (tie_word_embeddings false, as ankh exports) lm_head.weight must equal the file's tensor and
must not share storage with shared.weight: transformers 5 ties them unless told otherwise, and a
tied head would silently compute other logits.

--logits OUT_DIR (implies --transformers) also writes the fp32 logits of that model for a fixed
padded batch of proteins (inputs as int64, logits as float32 .bin files, shapes in shapes.txt);
tests/gpu/export_hf_logits_test.cpp compares them with ankh's logits from the checkpoint.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

DTYPES = {  # safetensors dtype -> (bytes per element, numpy dtype used to read it)
    "F64": (8, np.float64), "F32": (4, np.float32), "F16": (2, np.float16), "BF16": (2, np.uint16),
    "I64": (8, np.int64), "I32": (4, np.int32), "I16": (2, np.int16), "I8": (1, np.int8),
    "U8": (1, np.uint8), "BOOL": (1, np.bool_),
}


def read_safetensors(path, problems):
    """Returns {name: (dtype, shape, numpy array)} for a valid file; adds to `problems` otherwise."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = raw.size
    if size < 8:
        problems.append(f"{path}: truncated ({size} bytes)")
        return {}
    (n,) = struct.unpack("<Q", raw[:8].tobytes())
    if n > size - 8:
        problems.append(f"{path}: header length {n} runs past the end of the file ({size} bytes)")
        return {}
    try:
        header = json.loads(raw[8:8 + n].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"{path}: header is not valid JSON: {e}")
        return {}
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    tensors, spans = {}, []
    for name, entry in header.items():
        try:
            dtype, shape, (begin, end) = entry["dtype"], list(entry["shape"]), entry["data_offsets"]
            if not all(isinstance(v, int) and v >= 0 for v in shape + [begin, end]):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            problems.append(f"{path}: tensor {name}: malformed header entry {entry}")
            continue
        if dtype not in DTYPES:
            problems.append(f"{path}: tensor {name}: unknown dtype {dtype}")
            continue
        width, np_dtype = DTYPES[dtype]
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * width or end > data.size or begin > end:
            problems.append(f"{path}: tensor {name}: offsets [{begin}, {end}] do not fit shape {shape} of {dtype} "
                            f"in {data.size} data bytes")
            continue
        spans.append((begin, end, name))
        tensors[name] = (dtype, list(shape), np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape))
    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            problems.append(f"{path}: tensor {name}: starts at {begin}, expected {covered} (overlap or gap)")
        covered = max(covered, end)
    if spans and covered != data.size:
        problems.append(f"{path}: {data.size - covered} bytes after the last tensor")
    return tensors


def as_float(dtype, array):
    if dtype == "BF16":  # bfloat16 is the upper half of a float32
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array


def expected_t5(config, encoder_only):
    """(required, optional) {name: shape} of transformers' T5 models for this config."""
    vocab, d_model, d_kv, d_ff = config["vocab_size"], config["d_model"], config["d_kv"], config["d_ff"]
    heads, buckets = config["num_heads"], config["relative_attention_num_buckets"]
    enc_layers = config["num_layers"]
    dec_layers = config.get("num_decoder_layers") or enc_layers
    gated = config.get("feed_forward_proj", "relu").startswith("gated-")
    inner = heads * d_kv
    required, optional = {"shared.weight": [vocab, d_model]}, {}

    def stack(prefix, layers, decoder):
        optional[f"{prefix}.embed_tokens.weight"] = [vocab, d_model]
        for i in range(layers):
            b = f"{prefix}.block.{i}.layer"
            attentions = [f"{b}.0.SelfAttention"] + ([f"{b}.1.EncDecAttention"] if decoder else [])
            for a in attentions:
                for m in "qkv":
                    required[f"{a}.{m}.weight"] = [inner, d_model]
                required[f"{a}.o.weight"] = [d_model, inner]
            if i == 0:
                required[f"{b}.0.SelfAttention.relative_attention_bias.weight"] = [buckets, heads]
            norms = 3 if decoder else 2
            for j in range(norms):
                required[f"{b}.{j}.layer_norm.weight"] = [d_model]
            ff = f"{b}.{norms - 1}.DenseReluDense"
            for wi in (["wi_0", "wi_1"] if gated else ["wi"]):
                required[f"{ff}.{wi}.weight"] = [d_ff, d_model]
            required[f"{ff}.wo.weight"] = [d_model, d_ff]
        required[f"{prefix}.final_layer_norm.weight"] = [d_model]

    stack("encoder", enc_layers, False)
    if not encoder_only:
        stack("decoder", dec_layers, True)
        (optional if config.get("tie_word_embeddings", True) else required)["lm_head.weight"] = [vocab, d_model]
    return required, optional


def check_tokenizer(directory, config, problems):
    path = directory / "tokenizer.json"
    if not path.exists():
        problems.append(f"{path}: missing")
        return
    tok = json.loads(path.read_text())
    vocab = tok.get("model", {}).get("vocab", {})
    ids = sorted(vocab.values())
    if ids != list(range(len(ids))):
        problems.append(f"{path}: token ids are not 0..{len(ids) - 1}")
    if len(ids) > config["vocab_size"]:
        problems.append(f"{path}: {len(ids)} tokens but config vocab_size is {config['vocab_size']}")
    for key, expected_id in (("pad_token_id", "<pad>"), ("eos_token_id", "</s>")):
        if key in config and vocab.get(expected_id) != config[key]:
            problems.append(f"{path}: {expected_id} has id {vocab.get(expected_id)}, config {key} is {config[key]}")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        if not (directory / name).exists():
            problems.append(f"{directory / name}: missing")


def check_with_transformers(directory, encoder_only, file_lm_head, problems):
    """Loads DIR with transformers and checks it; returns the model. file_lm_head: the file's
    (dtype, shape, array) of lm_head.weight, or None."""
    import torch
    import transformers
    from transformers import AutoTokenizer, T5EncoderModel, T5ForConditionalGeneration

    model_class = T5EncoderModel if encoder_only else T5ForConditionalGeneration
    model, info = model_class.from_pretrained(directory, output_loading_info=True)
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(kind):
            problems.append(f"transformers {transformers.__version__}: {kind}: {info[kind]}")
    tok = AutoTokenizer.from_pretrained(directory)
    vocab = json.loads((directory / "tokenizer.json").read_text())["model"]["vocab"]
    protein = "MKTAYIAKQR"
    expected = [vocab[c] for c in protein] + [vocab["</s>"]]
    for text in (protein, " ".join(protein), protein.lower()):
        ids = tok(text)["input_ids"]
        if ids != expected:
            problems.append(f"AutoTokenizer: {text!r} -> {ids}, expected {expected}")
    batch = tok([protein], return_tensors="pt")
    with torch.no_grad():
        if encoder_only:
            out = model(**batch).last_hidden_state
        else:
            out = model(**batch, decoder_input_ids=torch.zeros(1, 1, dtype=torch.long)).logits
    if not torch.isfinite(out.float()).all():
        problems.append("transformers forward pass gives non-finite values")
    if not encoder_only and not model.config.tie_word_embeddings:
        if model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr():
            problems.append(f"transformers {transformers.__version__} tied lm_head.weight to shared.weight "
                            "although config.json has tie_word_embeddings false")
        if file_lm_head is not None:
            dtype, _, array = file_lm_head
            stored = torch.from_numpy(np.array(as_float(dtype, array), dtype=np.float32))
            if not torch.equal(model.lm_head.weight.detach().float().cpu(), stored):
                problems.append("lm_head.weight as loaded by transformers differs from the file's lm_head.weight")
    print(f"transformers {transformers.__version__}: {model_class.__name__} and {type(tok).__name__} loaded, "
          f"forward output {tuple(out.shape)}")
    return model


def write_logits(model, directory, out_dir):
    """fp32 logits of the loaded transformers model for a fixed padded batch, for export_hf_logits_test."""
    import torch
    model = model.float().eval()
    vocab = json.loads((directory / "tokenizer.json").read_text())["model"]["vocab"]
    proteins = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERSGARSKQRRPQGLPNNTASWFTALTQHGK",
                "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF"]
    width = max(len(p) for p in proteins) + 1
    ids = torch.zeros(len(proteins), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, p in enumerate(proteins):
        row = [vocab[c] for c in p] + [vocab["</s>"]]
        ids[r, :len(row)] = torch.tensor(row)
        mask[r, :len(row)] = 1
    g = torch.Generator().manual_seed(7)
    labels = torch.randint(3, 144, (len(proteins), 17), generator=g)
    decoder_ids = torch.cat([torch.zeros_like(labels[:, :1]), labels[:, :-1]], 1)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=decoder_ids).logits.float()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, t in (("input_ids", ids), ("attention_mask", mask), ("decoder_input_ids", decoder_ids), ("logits", logits)):
        t.contiguous().numpy().tofile(out_dir / f"{name}.bin")
    (out_dir / "shapes.txt").write_text(f"{ids.shape[0]} {ids.shape[1]} {decoder_ids.shape[1]} {logits.shape[2]}\n")
    print(f"wrote transformers logits {tuple(logits.shape)} to {out_dir}")


def main():
    argv = sys.argv[1:]
    logits_dir = None
    if "--logits" in argv:
        i = argv.index("--logits")
        if i + 1 >= len(argv):
            print("--logits needs an output directory", file=sys.stderr)
            return 2
        logits_dir = Path(argv[i + 1])
        del argv[i:i + 2]
        argv.append("--transformers")
    with_transformers = "--transformers" in argv
    args = [a for a in argv if a != "--transformers"]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory = Path(args[0])
    problems = []
    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"FAIL: cannot read {directory / 'config.json'}: {e}")
        return 1

    index = directory / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    tensors = {}
    for f in files:
        if not (directory / f).exists():
            problems.append(f"{directory / f}: missing")
            continue
        tensors.update(read_safetensors(directory / f, problems))

    encoder_only = not any(n.startswith("decoder.") or n == "lm_head.weight" for n in tensors)
    model_class = "T5EncoderModel" if encoder_only else "T5ForConditionalGeneration"
    try:
        required, optional = expected_t5(config, encoder_only)
    except KeyError as e:
        print(f"FAIL: config.json lacks {e}")
        return 1
    for name, shape in sorted(required.items()):
        if name not in tensors:
            problems.append(f"missing {name} {shape}")
    for name, (dtype, shape, array) in sorted(tensors.items()):
        expected = required.get(name, optional.get(name))
        if expected is None:
            problems.append(f"unexpected {name} {shape}")
        elif shape != expected:
            problems.append(f"wrong shape {name}: {shape}, expected {expected}")
        elif dtype in ("F32", "F16", "BF16", "F64") and not np.isfinite(as_float(dtype, array)).all():
            problems.append(f"non-finite values in {name}")
    architectures = config.get("architectures", [])
    if architectures and model_class not in architectures:
        problems.append(f"config.json architectures {architectures} do not match the tensors ({model_class})")
    check_tokenizer(directory, config, problems)
    if with_transformers and not problems:
        try:
            model = check_with_transformers(directory, encoder_only, tensors.get("lm_head.weight"), problems)
            if logits_dir is not None and not problems:
                write_logits(model, directory, logits_dir)
        except ImportError as e:
            problems.append(f"--transformers needs torch and transformers in this python ({sys.executable}): {e}")

    dtypes = sorted({t[0] for t in tensors.values()})
    if problems:
        print(f"FAIL: {directory} ({model_class}): {len(problems)} problem(s)")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"OK: {directory}: {model_class}, {len(tensors)} tensors, "
          f"{sum(a.size for _, _, a in tensors.values()):,} parameters, dtype {', '.join(dtypes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
