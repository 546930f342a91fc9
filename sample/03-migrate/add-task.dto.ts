import { IsString, Length } from 'class-validator';

export class AddTaskDto {
  @IsString()
  @Length(1, 200)
  title!: string;
}
