package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden savepoint of a feature step (written by earlier code, in its layout: see
 * {@code src/test/resources/state-snapshots/README.md}) restored with this code, on either
 * backend, then fed the payments after it: the features are those of the kernel run straight
 * over all the payments, and the step's output is that of a run never interrupted; so is the
 * output of the step restored from a savepoint taken right after the first restore.
 */
class StateUpgradeTest {
    private static String spec;
    private static FeatureKernel kernel;
    private static List<Enriched> payments;

    @BeforeAll
    static void readSpec() throws Exception {
        spec = Files.readString(PackForDecisionContractTest.contract("feature-spec.json"));
        kernel = new FeatureKernel(FeatureSpec.parse(spec));
        payments = StepHarness.payments();
    }

    static Path folder() throws Exception {
        return Path.of(StateUpgradeTest.class.getResource("/state-snapshots").toURI());
    }

    static Stream<Arguments> savepoints() throws Exception {
        List<Arguments> cases = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder())) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".snapshot") && !name.startsWith(LabelStateUpgradeTest.PREFIX)) {
                    for (StepHarness.Backend backend : StepHarness.Backend.values()) {
                        cases.add(Arguments.of(file.getFileName().toString(), backend));
                    }
                }
            }
        }
        return cases.stream();
    }

    /** The card kernel as it stands after the payments the savepoints saw. */
    private static BuildFeatures.Offline afterSplit(String step, int size) throws Exception {
        var upstream = new BuildFeatures.Offline(kernel, StepHarness.DEDUPE_TTL_MS);
        StepHarness.inputs(step, upstream, size, payments, 0, StepHarness.SPLIT);
        return upstream;
    }

    @ParameterizedTest(name = "{0} restored on {1}")
    @MethodSource("savepoints")
    void aRestoredStepGoesOnAsIfNeverStopped(String file, StepHarness.Backend backend)
            throws Exception {
        String step = file.substring(0, file.indexOf('-'));
        int size = kernel.spec.size();
        int split = StepHarness.SPLIT;
        OperatorSubtaskState saved = OperatorSnapshotUtil.readStateHandle(
                folder().resolve(file).toString());

        List<Enriched> after = StepHarness.inputs(step, afterSplit(step, size), size, payments,
                split, payments.size());
        List<Enriched> restored;
        OperatorSubtaskState resaved;
        try (var harness = StepHarness.open(step, spec, backend, saved)) {
            resaved = StepHarness.savepoint(harness);
            restored = StepHarness.process(harness, after);
        }
        // Saved again at once, before any key was written: every state must have been
        // rewritten in the current layout, which the new savepoint says it holds.
        List<Enriched> restoredTwice;
        try (var harness = StepHarness.open(step, spec, backend, resaved)) {
            restoredTwice = StepHarness.process(harness, StepHarness.inputs(step,
                    afterSplit(step, size), size, payments, split, payments.size()));
        }

        var straight = new BuildFeatures.Offline(kernel, StepHarness.DEDUPE_TTL_MS);
        List<Enriched> all = StepHarness.inputs(step, straight, size, payments, 0,
                payments.size());
        List<Enriched> uninterrupted;
        try (var harness = StepHarness.open(step, spec, backend, null)) {
            uninterrupted = StepHarness.process(harness, all);
        }
        uninterrupted = uninterrupted.subList(uninterrupted.size() - restored.size(),
                uninterrupted.size());

        var oracle = new BuildFeatures.Offline(kernel, StepHarness.DEDUPE_TTL_MS);
        List<double[]> expected = new ArrayList<>();
        for (int i = 0; i < payments.size(); i++) {
            double[] features = oracle.next(payments.get(i).txn());
            if (i >= split && features != null) {
                expected.add(features);
            }
        }

        assertEquals(expected.size(), restored.size(), "one record per answered payment");
        assertEquals(restored.size(), restoredTwice.size());
        int written = 0;
        for (int k = 0; k < restored.size(); k++) {
            Enriched e = restored.get(k);
            assertEquals(uninterrupted.get(k).txnId, e.txnId);
            assertEquals(uninterrupted.get(k).late, e.late, e.txnId + " late");
            assertArrayEquals(uninterrupted.get(k).features, e.features, e.txnId);
            assertArrayEquals(e.features, restoredTwice.get(k).features, e.txnId + " resaved");
            assertEquals(e.late, restoredTwice.get(k).late, e.txnId + " resaved late");
            for (int j = 0; j < size; j++) {
                if (!Double.isNaN(e.features[j])) { // a feature this step writes
                    written++;
                    assertEquals(expected.get(k)[j], e.features[j], e.txnId + " " + j);
                }
            }
        }
        assertTrue(written > restored.size(), step + " wrote its features");
    }
}
