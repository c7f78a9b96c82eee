"""A saved model's arithmetic, undone on loading: every model runs as float32 for inference.

Models trained in mixed bfloat16 keep that policy in their saved config, and files stored
with float16 weights (half the bytes, for shipping) keep theirs; rebuilding the model under
float32 makes predictions and Grad-CAM the same on every machine.
"""


def as_float32(model):
    """The same model with float32 layers (weights are float32 in mixed precision already)."""
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in _all_layers(model)):
        return model
    return _rebuilt(model, "float32")


def as_float16(model):
    """The same model with float16 layers and weights: half the file size for shipping.

    float16 keeps ~3 significant digits, so predictions move by about 1e-3; a file saved
    from it loads back as float32 through `as_float32`, like a mixed-precision one.
    """
    return _rebuilt(model, "float16")


def _rebuilt(model, policy):
    import keras

    clone = keras.Model.from_config(_with_policy(model.get_config(), policy))
    clone.set_weights([weight.astype(policy) for weight in model.get_weights()])
    return clone


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _with_policy(node, policy):
    """Rewrite every dtype policy in a (nested) Keras config to `policy`."""
    if isinstance(node, dict):
        if node.get("class_name") == "DTypePolicy" and isinstance(node.get("config"), dict):
            return dict(node, config=dict(node["config"], name=policy))
        return {key: _with_policy(value, policy) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_policy(value, policy) for value in node]
    return node
