"""Tests of the deploy bundles: the image, the Compose stack and the Helm chart."""
