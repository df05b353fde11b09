package dev.sluice.flinkref;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.File;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.CoGroupFunction;
import org.apache.flink.api.common.functions.JoinFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.datastream.WindowedStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.co.ProcessJoinFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.functions.windowing.delta.DeltaFunction;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.windowing.assigners.DynamicEventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SessionWindowTimeGapExtractor;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.evictors.CountEvictor;
import org.apache.flink.streaming.api.windowing.evictors.DeltaEvictor;
import org.apache.flink.streaming.api.windowing.evictors.TimeEvictor;
import org.apache.flink.streaming.api.windowing.triggers.ContinuousEventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.CountTrigger;
import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.PurgingTrigger;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.TaggedUnion;

/**
 * The Flink side of Sluice's differential test (packages/core/test/flink-differential.it.test.ts).
 *
 * <p>Usage: {@code java -cp ... dev.sluice.flinkref.FlinkReference scenarios.json out.tsv}. Reads the
 * scenarios the Node side generated (see packages/core/test/__fixtures__/flink-diff/scenarios.ts for
 * the format), runs each as its own Flink job on one MiniCluster started once for all of them, and
 * writes for each scenario its output lines, sorted, as {@code <id>\t<line>}, followed by {@code
 * <id>\t#end}; a job that failed gets {@code <id>\t#error <message>} instead. The Node side builds the
 * same pipelines in Sluice and prints the same lines; the two files are compared per scenario.
 *
 * <p>Every pipeline has the same shape in both systems: a parallelism-1 collection source, {@code
 * assignTimestampsAndWatermarks} with a punctuated generator that emits the watermark carried by a
 * marker element (periodic emission off: auto-watermark interval 0), a filter dropping the markers,
 * then the operator under test at the scenario's parallelism, a ProcessFunction appending the
 * record's timestamp, and a collecting sink.
 */
public final class FlinkReference {

    /** One input element, or (mark = true) a watermark marker carrying the watermark in ts. */
    public static class Ev {
        public String k;
        public long v;
        public long ts;
        public boolean mark;

        public Ev() {}

        public Ev(String k, long v, long ts, boolean mark) {
            this.k = k;
            this.v = v;
            this.ts = ts;
            this.mark = mark;
        }
    }

    static final TypeInformation<Ev> EV = TypeInformation.of(Ev.class);
    static final OutputTag<Ev> LATE = new OutputTag<>("late", EV);
    static final OutputTag<String> KEY_FIRES_TAG = new OutputTag<>("key-fires", Types.STRING);

    /** Output of the jobs, by scenario id; the sinks run in this JVM (MiniCluster), so a static map works. */
    static final Map<String, ConcurrentLinkedQueue<String>> RESULTS = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: FlinkReference <scenarios.json> [out.tsv]");
            System.exit(2);
        }
        JsonNode root = new ObjectMapper().readTree(new File(args[0]));
        JsonNode scenarios = root.get("scenarios");
        int concurrency = root.has("concurrency") ? root.get("concurrency").asInt() : 4;
        PrintWriter out =
                args.length > 1
                        ? new PrintWriter(Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8))
                        : new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));

        Configuration config = new Configuration();
        config.set(RestOptions.BIND_PORT, "0");
        // Flink's scratch files under the working directory (the Node side runs this in a temp dir it removes).
        String scratch = Path.of(System.getProperty("user.dir"), "flink-tmp").toAbsolutePath().toString();
        config.set(CoreOptions.TMP_DIRS, scratch);
        config.set(WebOptions.UPLOAD_DIR, scratch);
        config.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("32m"));
        config.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("256m"));
        config.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("256m"));
        MiniCluster cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(config)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(3 * concurrency)
                                .build());
        cluster.start();
        long started = System.nanoTime();
        try {
            List<JsonNode> all = new ArrayList<>();
            scenarios.forEach(all::add);
            for (int from = 0; from < all.size(); from += concurrency) {
                List<JsonNode> batch = all.subList(from, Math.min(all.size(), from + concurrency));
                List<String> ids = new ArrayList<>();
                List<CompletableFuture<JobResult>> results = new ArrayList<>();
                for (JsonNode scenario : batch) {
                    String id = scenario.get("id").asText();
                    ids.add(id);
                    RESULTS.put(id, new ConcurrentLinkedQueue<>());
                    try {
                        StreamGraph graph = buildJob(scenario);
                        JobID jobId = cluster.submitJob(graph).get().getJobID();
                        results.add(cluster.requestJobResult(jobId));
                    } catch (Exception e) {
                        results.add(CompletableFuture.failedFuture(e));
                    }
                }
                for (int i = 0; i < ids.size(); i++) {
                    String id = ids.get(i);
                    String error = null;
                    try {
                        JobResult result = results.get(i).get(120, TimeUnit.SECONDS);
                        if (!result.isSuccess()) {
                            error = describe(result.getSerializedThrowable().get().deserializeError(FlinkReference.class.getClassLoader()));
                        }
                    } catch (Exception e) {
                        error = describe(e);
                    }
                    if (error != null) {
                        out.println(id + "\t#error " + error.replace('\n', ' ').replace('\t', ' '));
                        continue;
                    }
                    List<String> lines = new ArrayList<>(RESULTS.remove(id));
                    Collections.sort(lines);
                    for (String line : lines) out.println(id + "\t" + line);
                    out.println(id + "\t#end");
                }
                out.flush();
            }
        } finally {
            out.flush();
            System.err.printf("flink-reference: %d scenarios in %.1f s%n", scenarios.size(), (System.nanoTime() - started) / 1e9);
            cluster.closeAsync().get(30, TimeUnit.SECONDS);
        }
        // MiniCluster leaves non-daemon threads behind now and then.
        System.exit(0);
    }

    private static String describe(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        StringWriter text = new StringWriter();
        text.append(root.getClass().getName()).append(": ").append(String.valueOf(root.getMessage()));
        return text.toString();
    }

    // ------------------------------------------------------------------------------------ jobs

    static StreamGraph buildJob(JsonNode scenario) {
        String id = scenario.get("id").asText();
        int parallelism = scenario.get("parallelism").asInt();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        env.getConfig().setAutoWatermarkInterval(0);
        String kind = scenario.get("kind").asText();
        DataStream<String> lines;
        switch (kind) {
            case "window":
                lines = windowJob(env, scenario, parallelism);
                break;
            case "join":
            case "cogroup":
                lines = windowJoinJob(env, scenario, parallelism, kind.equals("cogroup"));
                break;
            case "interval":
                lines = intervalJoinJob(env, scenario, parallelism);
                break;
            default:
                throw new IllegalArgumentException("unknown scenario kind " + kind);
        }
        lines.sinkTo(new CollectingSink(id)).setParallelism(1).name("collect");
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("flink-reference " + id);
        return graph;
    }

    /** Source (parallelism 1) → punctuated watermarks from the markers → drop the markers. */
    static DataStream<Ev> input(StreamExecutionEnvironment env, JsonNode items, String name) {
        List<Ev> events = new ArrayList<>();
        for (JsonNode item : items) {
            if (item.has("wm")) events.add(new Ev("", 0, item.get("wm").asLong(), true));
            else events.add(new Ev(item.get("k").asText(), item.get("v").asLong(), item.get("ts").asLong(), false));
        }
        WatermarkStrategy<Ev> strategy =
                WatermarkStrategy.<Ev>forGenerator(context -> new MarkerWatermarks())
                        .withTimestampAssigner((event, previous) -> event.ts);
        return env.fromData(events, EV)
                .setParallelism(1)
                .name(name)
                .assignTimestampsAndWatermarks(strategy)
                .setParallelism(1)
                .filter(event -> !event.mark)
                .setParallelism(1)
                .name("drop markers");
    }

    /** Punctuated: the watermark a marker element carries, nothing periodic. */
    static final class MarkerWatermarks implements WatermarkGenerator<Ev> {
        @Override
        public void onEvent(Ev event, long eventTimestamp, WatermarkOutput output) {
            if (event.mark) output.emitWatermark(new Watermark(event.ts));
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {}
    }

    static final KeySelector<Ev, String> KEY = event -> event.k;

    @SuppressWarnings({"unchecked", "rawtypes"})
    static DataStream<String> windowJob(StreamExecutionEnvironment env, JsonNode s, int parallelism) {
        KeyedStream<Ev, String> keyed = input(env, s.get("input"), "input").keyBy(KEY, Types.STRING);
        JsonNode assigner = s.get("assigner");
        WindowedStream<Ev, String, Window> windowed;
        if (assigner.get("type").asText().equals("count")) {
            JsonNode slide = assigner.get("slide");
            windowed =
                    (WindowedStream)
                            (slide == null || slide.isNull()
                                    ? keyed.countWindow(assigner.get("size").asLong())
                                    : keyed.countWindow(assigner.get("size").asLong(), slide.asLong()));
        } else {
            windowed = (WindowedStream) keyed.window((WindowAssigner) timeAssigner(assigner));
        }
        JsonNode trigger = s.get("trigger");
        if (trigger != null && !trigger.isNull()) windowed.trigger((Trigger) trigger(trigger));
        long lateness = s.get("lateness").asLong();
        if (lateness > 0) windowed.allowedLateness(Duration.ofMillis(lateness));
        boolean late = s.get("sideOutputLate").asBoolean();
        if (late) windowed.sideOutputLateData(LATE);
        JsonNode evictor = s.get("evictor");
        if (evictor != null && !evictor.isNull()) {
            boolean after = evictor.get("after").asBoolean();
            switch (evictor.get("type").asText()) {
                case "count":
                    windowed.evictor(CountEvictor.of(evictor.get("max").asLong(), after));
                    break;
                case "time":
                    windowed.evictor(TimeEvictor.of(Duration.ofMillis(evictor.get("size").asLong()), after));
                    break;
                case "delta":
                    windowed.evictor(
                            DeltaEvictor.of(
                                    evictor.get("threshold").asDouble(),
                                    (DeltaFunction<Ev>) (a, b) -> Math.abs(a.v - b.v),
                                    after));
                    break;
                default:
                    throw new IllegalArgumentException("unknown evictor " + evictor);
            }
        }
        String fn = s.get("fn").asText();
        SingleOutputStreamOperator<String> main;
        SingleOutputStreamOperator<?> windowOperator;
        switch (fn) {
            case "reduce": {
                SingleOutputStreamOperator<Ev> reduced = windowed.reduce(new SumReduce());
                windowOperator = reduced;
                main = reduced.map(e -> "R|" + e.k + "|" + e.v).returns(Types.STRING);
                break;
            }
            case "aggregate":
                main = windowed.aggregate(new CountSum(true), TypeInformation.of(Acc.class), Types.STRING);
                windowOperator = main;
                break;
            case "process":
                main = windowed.process(new ListWindowFunction(), Types.STRING);
                windowOperator = main;
                break;
            case "reduce+process":
                main = windowed.reduce(new SumReduce(), new ReducedWindowFunction(), Types.STRING);
                windowOperator = main;
                break;
            case "aggregate+process":
                main = windowed.aggregate(new CountSum(false), new AggregatedWindowFunction(), TypeInformation.of(Acc.class), Types.STRING, Types.STRING);
                windowOperator = main;
                break;
            case "process+state":
                main = windowed.process(new StatefulWindowFunction(), Types.STRING);
                windowOperator = main;
                break;
            default:
                throw new IllegalArgumentException("unknown window function " + fn);
        }
        DataStream<String> lines = main.process(new Stamp(true)).returns(Types.STRING);
        if (fn.equals("process+state")) lines = lines.union(main.getSideOutput(KEY_FIRES_TAG));
        if (late) {
            DataStream<String> lateLines =
                    windowOperator
                            .getSideOutput(LATE)
                            .map(e -> "L|" + e.k + "|" + e.v + "@" + e.ts)
                            .returns(Types.STRING)
                            .process(new Stamp(true))
                            .returns(Types.STRING);
            lines = lines.union(lateLines);
        }
        return lines;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static WindowAssigner<Object, TimeWindow> timeAssigner(JsonNode a) {
        switch (a.get("type").asText()) {
            case "tumbling":
                return TumblingEventTimeWindows.of(ms(a, "size"), ms(a, "offset"));
            case "sliding":
                return SlidingEventTimeWindows.of(ms(a, "size"), ms(a, "slide"), ms(a, "offset"));
            case "session":
                if (!a.get("dynamic").asBoolean()) return EventTimeSessionWindows.withGap(ms(a, "gap"));
                final long gap = a.get("gap").asLong();
                return (WindowAssigner) DynamicEventTimeSessionWindows.withDynamicGap(
                        (SessionWindowTimeGapExtractor<Object>) element -> gap + valueOf(element) % 3);
            default:
                throw new IllegalArgumentException("unknown assigner " + a);
        }
    }

    /** The element's v: of an Ev, or of the Ev inside a window join's TaggedUnion. */
    @SuppressWarnings("unchecked")
    static long valueOf(Object element) {
        if (element instanceof Ev) return ((Ev) element).v;
        TaggedUnion<Ev, Ev> tagged = (TaggedUnion<Ev, Ev>) element;
        return tagged.isOne() ? tagged.getOne().v : tagged.getTwo().v;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Trigger<Object, Window> trigger(JsonNode t) {
        Trigger nested;
        switch (t.get("type").asText()) {
            case "count":
                nested = CountTrigger.of(t.get("n").asLong());
                break;
            case "continuous":
                nested = ContinuousEventTimeTrigger.of(ms(t, "interval"));
                break;
            case "event":
                nested = EventTimeTrigger.create();
                break;
            default:
                throw new IllegalArgumentException("unknown trigger " + t);
        }
        return t.get("purging").asBoolean() ? PurgingTrigger.of(nested) : nested;
    }

    static Duration ms(JsonNode node, String field) {
        return Duration.ofMillis(node.get(field).asLong());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static DataStream<String> windowJoinJob(StreamExecutionEnvironment env, JsonNode s, int parallelism, boolean coGroup) {
        DataStream<Ev> left = input(env, s.get("left"), "left");
        DataStream<Ev> right = input(env, s.get("right"), "right");
        WindowAssigner assigner = timeAssigner(s.get("assigner"));
        SingleOutputStreamOperator<String> joined;
        if (coGroup) {
            joined =
                    left.coGroup(right)
                            .where(KEY, Types.STRING)
                            .equalTo(KEY)
                            .window(assigner)
                            .apply(
                                    (CoGroupFunction<Ev, Ev, String>)
                                            (lefts, rights, out) -> {
                                                String key = null;
                                                List<String> l = new ArrayList<>();
                                                List<String> r = new ArrayList<>();
                                                for (Ev e : lefts) {
                                                    key = e.k;
                                                    l.add(e.v + "@" + e.ts);
                                                }
                                                for (Ev e : rights) {
                                                    key = e.k;
                                                    r.add(e.v + "@" + e.ts);
                                                }
                                                Collections.sort(l);
                                                Collections.sort(r);
                                                out.collect("C|" + key + "|" + String.join(",", l) + "|" + String.join(",", r));
                                            },
                                    Types.STRING);
        } else {
            joined =
                    left.join(right)
                            .where(KEY, Types.STRING)
                            .equalTo(KEY)
                            .window(assigner)
                            .apply(
                                    (JoinFunction<Ev, Ev, String>)
                                            (a, b) -> "J|" + a.k + "|" + a.v + "@" + a.ts + "|" + b.v + "@" + b.ts,
                                    Types.STRING);
        }
        joined.setParallelism(parallelism);
        return joined.process(new Stamp(false)).returns(Types.STRING);
    }

    static DataStream<String> intervalJoinJob(StreamExecutionEnvironment env, JsonNode s, int parallelism) {
        KeyedStream<Ev, String> left = input(env, s.get("left"), "left").keyBy(KEY, Types.STRING);
        KeyedStream<Ev, String> right = input(env, s.get("right"), "right").keyBy(KEY, Types.STRING);
        KeyedStream.IntervalJoined<Ev, Ev, String> joined =
                left.intervalJoin(right).between(Duration.ofMillis(s.get("lower").asLong()), Duration.ofMillis(s.get("upper").asLong()));
        if (s.get("lowerExclusive").asBoolean()) joined = joined.lowerBoundExclusive();
        if (s.get("upperExclusive").asBoolean()) joined = joined.upperBoundExclusive();
        return joined.process(
                        new ProcessJoinFunction<Ev, Ev, String>() {
                            @Override
                            public void processElement(Ev l, Ev r, Context ctx, Collector<String> out) {
                                out.collect(
                                        "I|" + l.k + "|" + l.v + "@" + l.ts + "|" + r.v + "@" + r.ts + "|" + ctx.getLeftTimestamp() + "|"
                                                + ctx.getRightTimestamp() + "|" + ctx.getTimestamp());
                            }
                        },
                        Types.STRING)
                .setParallelism(parallelism)
                .process(new Stamp(false))
                .returns(Types.STRING);
    }

    // ------------------------------------------------------------------------------------ functions

    static String ts(Long timestamp) {
        if (timestamp == null) return "none";
        if (timestamp == Long.MAX_VALUE) return "MAX";
        if (timestamp == Long.MIN_VALUE) return "MIN";
        return Long.toString(timestamp);
    }

    static String window(Window window) {
        if (window instanceof TimeWindow) {
            TimeWindow w = (TimeWindow) window;
            return w.getStart() + "|" + w.getEnd() + "|" + ts(w.maxTimestamp());
        }
        return "global|global|" + ts(window.maxTimestamp());
    }

    /**
     * Appends the timestamp the record carries, {@code line@timestamp}, and with {@code withWatermark} the
     * current watermark, {@code line@timestamp~watermark}: only after single-input operators, where which
     * watermark the operator has seen at a record is determined by the input.
     */
    static final class Stamp extends ProcessFunction<String, String> {
        private final boolean withWatermark;

        Stamp(boolean withWatermark) {
            this.withWatermark = withWatermark;
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            String line = value + "@" + ts(ctx.timestamp());
            out.collect(withWatermark ? line + "~" + ts(ctx.timerService().currentWatermark()) : line);
        }
    }

    static final class SumReduce implements ReduceFunction<Ev> {
        @Override
        public Ev reduce(Ev a, Ev b) {
            return new Ev(a.k, a.v + b.v, Math.max(a.ts, b.ts), false);
        }
    }

    /** count and sum of v, and the key (an AggregateFunction does not see it otherwise). */
    public static final class Acc {
        public String k = "";
        public long count;
        public long sum;
    }

    static final class CountSum implements AggregateFunction<Ev, Acc, String> {
        private final boolean withKey;

        CountSum(boolean withKey) {
            this.withKey = withKey;
        }

        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Ev e, Acc acc) {
            acc.k = e.k;
            acc.count++;
            acc.sum += e.v;
            return acc;
        }

        @Override
        public String getResult(Acc acc) {
            return withKey ? "A|" + acc.k + "|" + acc.count + "|" + acc.sum : acc.count + "|" + acc.sum;
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            Acc merged = new Acc();
            merged.k = a.count > 0 ? a.k : b.k;
            merged.count = a.count + b.count;
            merged.sum = a.sum + b.sum;
            return merged;
        }
    }

    static final class ListWindowFunction extends ProcessWindowFunction<Ev, String, String, Window> {
        @Override
        public void process(String key, Context ctx, Iterable<Ev> elements, Collector<String> out) {
            List<long[]> items = new ArrayList<>();
            for (Ev e : elements) items.add(new long[] {e.ts, e.v});
            items.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            StringBuilder contents = new StringBuilder();
            for (long[] item : items) {
                if (contents.length() > 0) contents.append(',');
                contents.append(item[1]).append('@').append(item[0]);
            }
            out.collect("P|" + key + "|" + window(ctx.window()) + "|wm=" + ts(ctx.currentWatermark()) + "|" + contents);
        }
    }

    static final class ReducedWindowFunction extends ProcessWindowFunction<Ev, String, String, Window> {
        @Override
        public void process(String key, Context ctx, Iterable<Ev> elements, Collector<String> out) {
            for (Ev e : elements) out.collect("RP|" + key + "|" + window(ctx.window()) + "|wm=" + ts(ctx.currentWatermark()) + "|" + e.v);
        }
    }

    static final class AggregatedWindowFunction extends ProcessWindowFunction<String, String, String, Window> {
        @Override
        public void process(String key, Context ctx, Iterable<String> elements, Collector<String> out) {
            for (String e : elements) out.collect("AP|" + key + "|" + window(ctx.window()) + "|wm=" + ts(ctx.currentWatermark()) + "|" + e);
        }
    }

    /** Counts its firings per window (window state, cleared in clear) and per key (global state). */
    static final class StatefulWindowFunction extends ProcessWindowFunction<Ev, String, String, Window> {
        // Two names: Flink's state handles of one name share the namespace set last (window or global).
        private static final ValueStateDescriptor<Long> WINDOW_FIRES = new ValueStateDescriptor<>("window-fires", Types.LONG);
        private static final ValueStateDescriptor<Long> KEY_FIRES = new ValueStateDescriptor<>("key-fires", Types.LONG);

        @Override
        public void process(String key, Context ctx, Iterable<Ev> elements, Collector<String> out) throws Exception {
            ValueState<Long> ofWindow = ctx.windowState().getState(WINDOW_FIRES);
            ValueState<Long> ofKey = ctx.globalState().getState(KEY_FIRES);
            ofWindow.update((ofWindow.value() == null ? 0 : ofWindow.value()) + 1);
            ofKey.update((ofKey.value() == null ? 0 : ofKey.value()) + 1);
            int n = 0;
            for (Ev ignored : elements) n++;
            out.collect("PS|" + key + "|" + window(ctx.window()) + "|wm=" + ts(ctx.currentWatermark()) + "|" + ofWindow.value() + "|" + n);
            // Through a side output, without the window's timestamp: in which order windows whose timers
            // have the same timestamp fire is not specified (Flink's timer heap), so only the multiset of
            // these counts is compared.
            ctx.output(KEY_FIRES_TAG, "PSK|" + key + "|" + ofKey.value());
        }

        @Override
        public void clear(Context ctx) throws Exception {
            ctx.windowState().getState(WINDOW_FIRES).clear();
        }
    }

    /** Adds every record to {@link #RESULTS} under the scenario id. */
    static final class CollectingSink implements Sink<String> {
        private final String id;

        CollectingSink(String id) {
            this.id = id;
        }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) {
            ConcurrentLinkedQueue<String> queue = RESULTS.computeIfAbsent(id, ignored -> new ConcurrentLinkedQueue<>());
            return new SinkWriter<>() {
                @Override
                public void write(String element, Context ctx) {
                    queue.add(element);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
