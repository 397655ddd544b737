//! Every random choice derives from the preset's seed through separate ChaCha8 streams, so
//! one choice never shifts another and a resumed run re-creates the shuffles it would have made.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a random stream is used for.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Weight initialisation.
    Init,
    /// Choice of the probe subset.
    Probe,
    /// Minibatch shuffling of the given epoch (1-based).
    Shuffle(u32),
}

/// A generator for `stream` under `seed`; same inputs, same numbers, on every platform.
pub fn rng_for(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(match stream {
        Stream::Init => 1,
        Stream::Probe => 2,
        Stream::Shuffle(epoch) => 1_000 + u64::from(epoch),
    });
    rng
}
