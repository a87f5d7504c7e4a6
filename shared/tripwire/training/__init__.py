"""Training-time code: fits models and writes them as ONNX bytes plus a metadata dict.

Everything here may import scikit-learn, onnx and torch; none of it is packaged into a
Lambda. Run-time scorers for the artifacts live in `tripwire.detection` (numpy and
onnxruntime only). Import the trainers from their modules, not from this package, so
importing one framework never drags in the other.
"""
