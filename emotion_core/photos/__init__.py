"""Photos: one image decoder, face detection and crops, one analyse_photo, annotation."""
