"""The CLI's view of a running synthesis: a progress bar, frames, and the written result."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..io import save_image
from ..synth.loop import Iterate, Synthesis

EXIT_USER, EXIT_BUG, EXIT_INTERRUPTED = 2, 1, 130


class Progress:
    """A tqdm bar on stderr and optional frames, fed by the synthesis callback."""

    def __init__(self, total: int, quiet: bool, frames: Path | None, every: int):
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="eval", file=sys.stderr, dynamic_ncols=True,
                            leave=True, mininterval=0.5)
        self.frames, self.every = frames, every

    def __call__(self, it: Iterate) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(
                f"scale {it.scale + 1}/{it.scales} {it.size[1]}×{it.size[0]} step {it.step + 1} "
                f"loss {it.loss:.4g}", refresh=False)
        if self.frames is not None and self.every > 0 and it.evaluation % self.every == 0:
            save_image(self.frames / f"{it.evaluation:06d}.png", it.image)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_synthesis(args, synthesis: Synthesis, config: dict, output: Path, total: int,
                  scores=None, finish=None) -> int:
    """Run *synthesis* with a progress bar; write the result (or the best so far on Ctrl-C).
    *finish* post-processes the image (colour preservation); *scores* adds metrics to the JSON."""
    finish = finish or (lambda image: image)
    frames = output.with_name(output.stem + "_frames") if args.save_every > 0 else None
    progress = Progress(total, args.quiet, frames, args.save_every)
    synthesis.callback = progress
    start = time.perf_counter()
    try:
        image = synthesis.run()
    except KeyboardInterrupt:
        progress.close()
        best = synthesis.best_image if synthesis.best_image is not None else synthesis.image
        if best is None:
            print("untrained: interrupted before any image was made; nothing written",
                  file=sys.stderr)
            return EXIT_INTERRUPTED
        save_image(output, finish(best.clamp(0, 1)), config,
                   {"interrupted": True, "stats": synthesis.stats()})
        print(f"untrained: interrupted; best image so far written to {output}", file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    image = finish(image)
    stats = synthesis.stats()
    stats["wall_seconds"] = round(time.perf_counter() - start, 3)
    if scores is not None:
        stats["scores"] = scores(image)
    save_image(output, image, config,
               {"stats": stats, "loss_history": [round(h["loss"], 6) for h in synthesis.history]})
    if not args.quiet:
        print(f"wrote {output} ({stats['evaluations']} evaluations, "
              f"{stats['wall_seconds']:.1f} s)", file=sys.stderr)
    return 0
