"""`emotion-core predict IMAGE...`: the faces in each image and their emotions.

One bad file must not hide the others' results: it gets one `error: <path>: <problem>` line
on stderr, the rest are still reported, and the exit code is 1 when any file failed.
"""

import json
import sys
from pathlib import Path

from emotion_core.faces import MIN_FACE_FRACTION, SMALL_FACE_FRACTION, ImageError, decode_image
from emotion_core.labels import EMOTIONS
from emotion_core.model_io import load_model
from emotion_core.predict import predict_image


def run_predict(args):
    """Classify the faces in `args.images` with `args.model`; returns the exit code (0 or 1).

    A model that cannot be loaded raises ModelLoadError (the CLI's main prints it as one line).
    """
    model = load_model(args.model)
    min_face = SMALL_FACE_FRACTION if args.small_faces else MIN_FACE_FRACTION
    results = [_predict_file(model, path, tta=args.tta, min_face=min_face) for path in args.images]
    for result in results:
        if result["error"]:
            print(f"error: {result['path']}: {result['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"images": results}))
    else:
        print("\n".join(format_image(result) for result in results if not result["error"]))
    return 1 if any(result["error"] for result in results) else 0


def _predict_file(model, path, *, tta, min_face):
    """{"path", "faces", "error"} for one file; problems with the file become `error`, not raises."""
    try:
        image = decode_image(Path(path).read_bytes(), name=Path(path).name)
    except ImageError as error:
        return {"path": str(path), "faces": [], "error": error.problem}
    except OSError as error:  # missing file, a folder, no permission
        return {"path": str(path), "faces": [], "error": (error.strerror or type(error).__name__).lower()}
    return {"path": str(path), "faces": predict_image(model, image, tta=tta, min_face=min_face), "error": None}


def format_image(result):
    """Human lines for one image: per face its box, top emotion and all 7 probabilities."""
    faces = result["faces"]
    lines = [f"{result['path']}: {len(faces) or 'no'} face{'' if len(faces) == 1 else 's'} found"]
    for number, face in enumerate(faces, start=1):
        x, y, w, h = face["box"]
        top = face["probabilities"][face["emotion"]]
        lines.append(f"  face {number} at x={x} y={y} w={w} h={h}: {face['emotion']} {top:.2f}")
        lines.append("    " + " ".join(f"{name} {face['probabilities'][name]:.2f}" for name in EMOTIONS))
    return "\n".join(lines)
