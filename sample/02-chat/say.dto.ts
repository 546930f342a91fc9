import { IsString, Length } from 'class-validator';

export class SayDto {
  @IsString()
  @Length(1, 500)
  text!: string;
}
