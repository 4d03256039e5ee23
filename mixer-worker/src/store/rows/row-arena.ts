/**
 * The blocks an ingest pump's rows are written into, written again after each flush. In workerd a fresh
 * buffer is dear even at 64 KiB: a Worker CPU profile of bench:journal put 17% of the isolate's busy time on
 * allocating row blocks (2M records, one 64 KiB block per ~200 rows), and reusing them took that to 1%.
 * A buffer of 1 MiB or more is dearer still (362 MB allocated as 1 MB buffers took 1.1–1.3 s, as 64 KB
 * buffers 35–48 ms), so a row that outgrows a block gets a buffer of its own, never kept.
 *
 * The owner says when the rows are done with: {@link RowArena.reset} makes every row written since the last
 * reset a view of bytes that will be overwritten. The pump calls it once a flush has stored (or given back)
 * every row it held; nothing else may keep a row past that.
 *
 * @example
 * const arena = new RowArena();
 * const rows = transcodeBatch(message.data, checks, arena)?.rows; // views into the arena's blocks
 * await store(rows);
 * arena.reset(); // rows are not read again
 */
export class RowArena {
  static readonly BLOCK_BYTES = 64 * 1024;
  /** The block being written and how many of its bytes rows hold (its first block is made on first use). */
  block: Uint8Array = EMPTY;
  used = 0;
  /** Blocks written since the last reset (the one being written included), and blocks ready to be written. */
  #inUse: Uint8Array[] = [];
  #free: Uint8Array[] = [];
  #allocated = 0;

  /** Blocks made since the arena was created: a steady flow stops adding to it (arena tests, /health). */
  get blocksAllocated(): number {
    return this.#allocated;
  }

  /**
   * Makes a block with room for `bytes` the one being written, and returns it: a reused block when a block
   * holds them, else a new buffer that is not kept once its rows are done with.
   */
  next(bytes: number): Uint8Array {
    const block =
      bytes <= RowArena.BLOCK_BYTES
        ? (this.#free.pop() ?? this.#allocate(RowArena.BLOCK_BYTES))
        : this.#allocate(bytes);
    if (block.length === RowArena.BLOCK_BYTES) this.#inUse.push(block);
    this.block = block;
    this.used = 0;
    return block;
  }

  /**
   * Every row written so far is done with: their blocks are written again. Blocks kept are those the last
   * cycle used, so the arena holds what a flush needs and shrinks back after a burst.
   */
  reset(): void {
    this.#free = this.#inUse;
    this.#inUse = [];
    this.block = EMPTY;
    this.used = 0;
  }

  #allocate(bytes: number): Uint8Array {
    this.#allocated++;
    return new Uint8Array(bytes);
  }
}

const EMPTY = new Uint8Array(0);
