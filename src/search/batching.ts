// Batching of model calls across concurrent trees. searchMany (mcts.ts) runs many trees at once; their
// policy and PPM calls go through a BatchCoordinator that holds requests until every active tree is
// waiting on a model (or maxBatch requests are pending) and sends them as ONE call, so the policy
// decodes many expansions in one batch while the sandbox runs of other trees overlap with it.
import { SEARCH } from '../config.ts';

// ---------------------------------------------------------------------------------------------------
// What the search needs of the models

export interface ProposeRequest {
  /** Prompt + serialized steps so far. */
  prefix: string;
  /** Candidates wanted. */
  k: number;
  /**
   * Sampling seed for this request, derived from (search seed, problem id, node id). A policy that
   * seeds each request with it gives the same candidates whatever batch the request lands in.
   */
  seed?: number;
}

/** The policy: raw step texts per request (parsed here with parseStep). */
export interface StepProposer {
  propose(reqs: ProposeRequest[]): Promise<string[][]>;
}

/** The PPM: one score in [−1, 1] per text (prefix + step). */
export interface StepScorer {
  /** `questions[i]`: the question `texts[i]` answers (the values of its numbers come from it, not from
   *  the prompt text, which need not spell them). */
  score(texts: string[], questions?: string[]): Promise<number[]>;
}

/** One PPM request: "prompt + steps" text and the question it answers. */
interface ScoreRequest {
  text: string;
  question?: string;
}

// ---------------------------------------------------------------------------------------------------
// The coordinator

interface Pending<Req, Res> {
  reqs: Req[];
  resolve: (out: Res[]) => void;
  reject: (err: unknown) => void;
}

export interface QueueStats {
  /** Calls made to the wrapped model. */
  calls: number;
  /** Requests sent in them. */
  requests: number;
  /** Largest call. */
  largest: number;
}

class BatchQueue<Req, Res> {
  private pending: Pending<Req, Res>[] = [];
  private inFlight = false;
  readonly stats: QueueStats = { calls: 0, requests: 0, largest: 0 };

  constructor(
    private readonly coord: BatchCoordinator,
    private readonly send: (reqs: Req[]) => Promise<Res[]>,
  ) {}

  submit(reqs: Req[]): Promise<Res[]> {
    if (reqs.length === 0) return Promise.resolve([]);
    return new Promise<Res[]>((resolve, reject) => {
      this.pending.push({ reqs, resolve, reject });
      this.coord.waiting += 1;
      this.coord.pump();
    });
  }

  private pendingRequests(): number {
    return this.pending.reduce((s, p) => s + p.reqs.length, 0);
  }

  /** One call in flight per model: whatever arrives meanwhile joins the next batch. */
  maybeFlush(allWaiting: boolean, maxBatch: number): void {
    if (this.inFlight || this.pending.length === 0) return;
    if (!allWaiting && this.pendingRequests() < maxBatch) return;
    void this.flush(maxBatch);
  }

  private async flush(maxBatch: number): Promise<void> {
    const take: Pending<Req, Res>[] = [];
    let n = 0;
    while (this.pending.length > 0 && (take.length === 0 || n + this.pending[0]!.reqs.length <= maxBatch)) {
      const p = this.pending.shift()!;
      take.push(p);
      n += p.reqs.length;
    }
    const all = take.flatMap((p) => p.reqs);
    this.inFlight = true;
    this.stats.calls += 1;
    this.stats.requests += all.length;
    this.stats.largest = Math.max(this.stats.largest, all.length);
    let out: Res[] = [];
    let failure: { err: unknown } | null = null;
    try {
      out = await this.send(all);
      if (out.length !== all.length) throw new Error(`batched model call returned ${out.length} results for ${all.length} requests`);
    } catch (err) {
      failure = { err };
    }
    // Settle before pumping: the resumed trees run as microtasks, after the next flush decision.
    this.coord.waiting -= take.length;
    this.inFlight = false;
    let at = 0;
    for (const p of take) {
      if (failure) p.reject(failure.err);
      else p.resolve(out.slice(at, at + p.reqs.length));
      at += p.reqs.length;
    }
    this.coord.pump();
  }
}

/**
 * Counts active trees and trees waiting on a model; a wrapped model's pending requests are sent as one
 * call when every active tree is waiting (on it or on another wrapped model) or maxBatch is reached.
 * Trees busy in the sandbox are active but not waiting, so a batch waits for them to come back.
 * Used outside searchMany (no tree entered) the wrappers pass calls straight through.
 */
export class BatchCoordinator {
  /** Trees that will issue model calls. */
  active = 0;
  /** Calls submitted and not yet answered. */
  waiting = 0;
  readonly maxBatch: number;
  private readonly queues: BatchQueue<unknown, unknown>[] = [];
  readonly proposeStats: QueueStats;
  readonly scoreStats: QueueStats;
  private readonly proposeQueue: BatchQueue<ProposeRequest, string[]>;
  private readonly scoreQueue: BatchQueue<ScoreRequest, number>;
  private proposeInner: StepProposer | null = null;
  private scoreInner: StepScorer | null = null;

  constructor(opts: { maxBatch?: number } = {}) {
    this.maxBatch = Math.max(1, opts.maxBatch ?? SEARCH.maxBatch);
    this.proposeQueue = new BatchQueue<ProposeRequest, string[]>(this, (reqs) => {
      if (!this.proposeInner) throw new Error('BatchCoordinator: no proposer bound');
      return this.proposeInner.propose(reqs);
    });
    this.scoreQueue = new BatchQueue<ScoreRequest, number>(this, (reqs) => {
      if (!this.scoreInner) throw new Error('BatchCoordinator: no scorer bound');
      const questions = reqs.map((r) => r.question);
      return this.scoreInner.score(reqs.map((r) => r.text), questions.every((q) => q !== undefined) ? (questions as string[]) : undefined);
    });
    this.queues.push(this.proposeQueue as BatchQueue<unknown, unknown>, this.scoreQueue as BatchQueue<unknown, unknown>);
    this.proposeStats = this.proposeQueue.stats;
    this.scoreStats = this.scoreQueue.stats;
  }

  enter(n = 1): void {
    this.active += n;
  }

  leave(): void {
    this.active -= 1;
    this.pump();
  }

  /** Flush whatever the current counts allow. */
  pump(): void {
    const allWaiting = this.waiting >= this.active;
    for (const q of this.queues) q.maybeFlush(allWaiting, this.maxBatch);
  }

  /** Bind the policy; returns the batching wrapper every tree should call. */
  proposer(inner: StepProposer): BatchingProposer {
    this.proposeInner = inner;
    return new BatchingProposer(this.proposeQueue);
  }

  /** Bind the PPM; returns the batching wrapper every tree should call. */
  scorer(inner: StepScorer): BatchingScorer {
    this.scoreInner = inner;
    return new BatchingScorer(this.scoreQueue);
  }
}

export class BatchingProposer implements StepProposer {
  /** @internal made by BatchCoordinator.proposer */
  constructor(private readonly queue: BatchQueue<ProposeRequest, string[]>) {}
  propose(reqs: ProposeRequest[]): Promise<string[][]> {
    return this.queue.submit(reqs);
  }
}

export class BatchingScorer implements StepScorer {
  /** @internal made by BatchCoordinator.scorer */
  constructor(private readonly queue: BatchQueue<ScoreRequest, number>) {}
  score(texts: string[], questions?: string[]): Promise<number[]> {
    return this.queue.submit(texts.map((text, i) => ({ text, question: questions?.[i] })));
  }
}

