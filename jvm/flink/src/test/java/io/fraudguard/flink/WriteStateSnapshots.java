package io.fraudguard.flink;

import io.fraudguard.features.BucketWindows;
import io.fraudguard.features.BuildFeatures;
import io.fraudguard.features.FeatureKernel;
import io.fraudguard.features.FeatureSpec;
import io.fraudguard.features.LabelWindows;
import io.fraudguard.features.RawEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the golden savepoints of the feature steps that {@link StateUpgradeTest} restores
 * (see {@code src/test/resources/state-snapshots/README.md}): the payments before
 * {@link StepHarness#SPLIT} through each step, then its state, per backend. Not a test: it runs
 * only when asked, with the folder to write to:
 *
 * <pre>
 * mvn -f jvm/pom.xml -pl flink -am test -Dtest=WriteStateSnapshots \
 *     -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfraudguard.stateSnapshots=$PWD/jvm/flink/src/test/resources/state-snapshots
 * </pre>
 */
class WriteStateSnapshots {
    @Test
    @EnabledIfSystemProperty(named = "fraudguard.stateSnapshots", matches = ".+")
    void write() throws Exception {
        Path folder = Path.of(System.getProperty("fraudguard.stateSnapshots"));
        Files.createDirectories(folder);
        String spec = Files.readString(PackForDecisionContractTest.contract("feature-spec.json"));
        FeatureKernel kernel = new FeatureKernel(FeatureSpec.parse(spec));
        List<Enriched> payments = StepHarness.payments();
        for (StepHarness.Backend backend : StepHarness.Backend.values()) {
            for (String step : StepHarness.STEPS) {
                var offline = new BuildFeatures.Offline(kernel, StepHarness.DEDUPE_TTL_MS);
                try (var harness = StepHarness.open(step, spec, backend, null)) {
                    StepHarness.process(harness, StepHarness.inputs(
                            step, offline, kernel.spec.size(), payments, 0, StepHarness.SPLIT));
                    Path file = folder.resolve(StepHarness.fileName(step, backend, layout(step)));
                    OperatorSnapshotUtil.writeStateHandle(
                            StepHarness.savepoint(harness), file.toString());
                }
            }
        }
    }

    /**
     * The card and merchant steps' label states after {@link LabelStepsTest#labelled}, per
     * backend, named by the layout of {@link LabelWindows}: what {@link LabelStateUpgradeTest}
     * restores.
     */
    @Test
    @EnabledIfSystemProperty(named = "fraudguard.stateSnapshots", matches = ".+")
    void writeLabelled() throws Exception {
        Path folder = Path.of(System.getProperty("fraudguard.stateSnapshots"));
        Files.createDirectories(folder);
        String spec = LabelStepsTest.spec();
        int at = FeatureSpec.parse(spec).names.indexOf("card_confirmed_fraud");
        for (StepHarness.Backend backend : StepHarness.Backend.values()) {
            for (String step : LabelStateUpgradeTest.STEPS) {
                Path file = folder.resolve(LabelStateUpgradeTest.fileName(
                        step, backend, LabelWindows.LAYOUT));
                OperatorSnapshotUtil.writeStateHandle(
                        LabelStepsTest.labelled(step, spec, backend, at), file.toString());
            }
        }
    }

    /** The layout version this code writes {@code step}'s state in. */
    private static int layout(String step) {
        return switch (step) {
            case "card" -> FeatureKernel.CardState.LAYOUT;
            case "merchant" -> BucketWindows.LAYOUT;
            default -> RawEvents.LAYOUT;
        };
    }
}
