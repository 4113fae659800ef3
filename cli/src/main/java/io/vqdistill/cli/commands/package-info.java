/**
 * The {@code vqdistill} commands. Each parses its options, checks them (errors name the flags) and
 * calls the pipeline classes of {@code io.vqdistill.distill.pipeline}, which it gets injected; no
 * command calls another.
 */
package io.vqdistill.cli.commands;
