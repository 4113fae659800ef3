package io.vqdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.vqdistill.cli.CliFixtures.Run;
import jakarta.inject.Inject;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line is built on one injector, its commands get the pipeline injected and call no other command. */
class MainTest {
    private static final Path COMMANDS = Path.of("src/main/java/io/vqdistill/cli/commands");

    @TempDir
    Path dir;

    private static List<CommandLine> all(CommandLine cl) {
        List<CommandLine> out = new ArrayList<>(List.of(cl));
        for (CommandLine sub : cl.getSubcommands().values()) {
            out.addAll(all(sub));
        }
        return out;
    }

    @Test
    void everyCommandGetsItsInjectedMembersFromTheInjector() throws IllegalAccessException {
        int injected = 0;
        for (CommandLine cl : all(CliFixtures.commandLine())) {
            Object command = cl.getCommand();
            for (Field f : command.getClass().getDeclaredFields()) {
                if (f.isAnnotationPresent(Inject.class)) {
                    f.setAccessible(true);
                    assertThat(f.get(command)).as(command.getClass().getSimpleName() + "." + f.getName()).isNotNull();
                    injected++;
                }
            }
        }
        assertThat(injected).as("injected members of all commands").isGreaterThanOrEqualTo(12);
    }

    @Test
    void noCommandCallsAnotherOrReentersTheCommandLine() throws IOException {
        Pattern command = Pattern.compile("\\b(\\w+Command)\\b");
        try (Stream<Path> files = Files.list(COMMANDS)) {
            for (Path file : files.filter(p -> p.toString().endsWith("Command.java")).toList()) {
                String own = file.getFileName().toString().replace(".java", "");
                String text = Files.readString(file);
                Matcher m = command.matcher(text);
                while (m.find()) {
                    assertThat(m.group(1)).as("a command named in " + own).isEqualTo(own);
                }
                assertThat(text).as(own).doesNotContain("Main.").doesNotContain(".execute(");
            }
        }
    }

    @Test
    void aFailedQuickstartStageNamesTheEquivalentCommand() throws IOException {
        Path data = dir.resolve("mnist");
        CliFixtures.writeStripedMnist(data);
        Path qs = dir.resolve("qs");
        Run r = CliFixtures.execute("quickstart", "--backend", "nd4j", "--data", data.toString(), "--dir",
                qs.toString(), "--train-images", "40");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).startsWith("[1/6 0:00] data in " + data);
        assertThat(r.err()).contains("error: backend 'nd4j' has no VqVaeTrainer capability")
                .contains("error: quickstart stopped: 'vqdistill train vqvae --data " + data + " --limit 40 --out "
                        + qs.resolve("vqvae"))
                .contains("failed with exit status 2").doesNotContain("\tat ");
        Run bad = CliFixtures.execute("quickstart", "--components", "0");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).contains("--components must be in [1, 1048576], found 0");
    }

    @Test
    void helpListsEveryCommand() {
        String help = CliFixtures.run("--help");
        for (String name : Map.of("backends", 0, "bench", 0, "data", 0, "train", 0, "reconstruct", 0, "distill", 0,
                "evaluate", 0, "sample", 0, "inpaint", 0, "sweep", 0).keySet()) {
            assertThat(help).contains("  " + name);
        }
        assertThat(help).contains("  exact").contains("  quickstart").contains("  help");
    }
}
