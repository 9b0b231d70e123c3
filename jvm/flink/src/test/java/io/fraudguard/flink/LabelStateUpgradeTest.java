package io.fraudguard.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.fraudguard.features.FeatureSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.OperatorSnapshotUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden savepoint of the label states (written by earlier code after
 * {@link LabelStepsTest#labelled}, in the layout of {@code LabelWindows} its name says: see
 * {@code src/test/resources/state-snapshots/README.md}) restored with this code on either
 * backend: a payment after it sees the label the savepoint holds.
 */
class LabelStateUpgradeTest {
    static final List<String> STEPS = List.of("card", "merchant");
    static final String PREFIX = "labels-";

    /** The savepoint of {@code step}'s label states written on {@code backend} in {@code layout}. */
    static String fileName(String step, StepHarness.Backend backend, int layout) {
        return PREFIX + StepHarness.fileName(step, backend, layout);
    }

    static Stream<Arguments> savepoints() throws Exception {
        List<Arguments> cases = new ArrayList<>();
        try (Stream<Path> files = Files.list(StateUpgradeTest.folder())) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith(PREFIX) && name.endsWith(".snapshot")) {
                    for (StepHarness.Backend backend : StepHarness.Backend.values()) {
                        cases.add(Arguments.of(name, backend));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} restored on {1}")
    @MethodSource("savepoints")
    void aPaymentAfterTheRestoreSeesTheSavedLabel(String file, StepHarness.Backend backend)
            throws Exception {
        String step = file.substring(PREFIX.length(), file.indexOf('-', PREFIX.length()));
        String spec = LabelStepsTest.spec();
        OperatorSubtaskState saved = OperatorSnapshotUtil.readStateHandle(
                StateUpgradeTest.folder().resolve(file).toString());
        List<String> names = FeatureSpec.parse(spec).names;
        if (step.equals("card")) {
            int at = names.indexOf("card_confirmed_fraud");
            assertEquals(1.0, LabelStepsTest.afterRestore(step, spec, backend, saved, at));
        } else {
            for (String feature : List.of("merchant_fraud_rate_24h", "terminal_fraud_rate_30d")) {
                int at = names.indexOf(feature);
                double rate = LabelStepsTest.afterRestore(step, spec, backend, saved, at);
                assertEquals(0.333333, rate, feature); // rates are rounded to 6 places
            }
        }
    }

    @Test
    void everyLabelledStepHasItsGoldenSavepoints() throws Exception {
        List<String> files;
        try (Stream<Path> listed = Files.list(StateUpgradeTest.folder())) {
            files = listed.map(f -> f.getFileName().toString()).toList();
        }
        for (String step : STEPS) {
            for (StepHarness.Backend backend : StepHarness.Backend.values()) {
                assertFalse(files.stream().noneMatch(f -> f.startsWith(PREFIX + step + "-"
                        + backend.fileName() + "-v")), step + " on " + backend);
            }
        }
    }
}
