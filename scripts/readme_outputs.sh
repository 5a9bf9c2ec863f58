#!/bin/sh
# Print the command outputs that README.md quotes, so they can be pasted back after
# a change (a number in the docs must be one the tool prints). Needs a build and,
# for the training run, Fashion-MNIST (about two minutes on two cores).
set -eu
cd "$(dirname "$0")/.."
LP=build/layerpipe
echo '--- plan'
$LP plan configs/fmnist-mlp4.yaml
echo '--- schedule'
$LP plan configs/fmnist-mlp4.yaml --schedule 8 | sed -n '/^schedule/,$p'
echo '--- train'
$LP train configs/fmnist-mlp4.yaml --policy all 2>/dev/null | tail -7
echo '--- fixed'
sed 's/format: float32/format: fixed/' configs/fmnist-mlp4.yaml >/tmp/readme-fixed.yaml
$LP train /tmp/readme-fixed.yaml --policy sequential 2>/dev/null | tail -1
echo '--- verify'
$LP verify tests/configs/trace-m2-stash.yaml 2>/dev/null
echo '--- sim'
$LP sim tests/configs/trace-m4-ema.yaml | head -3
